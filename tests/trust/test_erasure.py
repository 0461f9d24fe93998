"""Export and erasure on a small simulated bank, on SQLite and PostgreSQL.

The scan after an erasure reflects the live schema (``MetaData.reflect``), so a table a later
version adds is scanned without anyone listing it here.
"""

from __future__ import annotations

import json
import stat
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import JSON, MetaData, String, Text, cast, insert, or_, select
from typer.testing import CliRunner

from tactful.batch.enrich import run_enrich
from tactful.batch.insights import run_insights
from tactful.cli import trust as trust_cli
from tactful.cli.app import app
from tactful.enrich.repository import recategorize
from tactful.errors import NotFoundError, ValidationError
from tactful.ingest.loader import Loader
from tactful.insights import repository as insights_repo
from tactful.simulate import SimulationConfig, simulate
from tactful.store import schema
from tactful.store.store import Store
from tactful.trust.erasure import erase_customer, erased_on
from tactful.trust.export import export_customer, held_tables
from tactful.trust.privacy import mask

CONFIG = SimulationConfig(customers=12, months=4, seed=3, start=date(2025, 1, 1))
TARGET = "CUS-00000001"
OTHER = "CUS-00000002"
KEY = b"test-secret-key"
runner = CliRunner()


@pytest.fixture(scope="session")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("erasure-bank")
    simulate(CONFIG, out, "csv")
    return out


def _bad_statement(exports: Path, folder: Path, iban: str, other_account: str) -> Path:
    """A statement named after the target's IBAN with rows the validator rejects: of the
    target's account and of another customer's, so the rejects file holds both."""
    lines = (exports / "transactions.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0]
    mine = [ln for ln in lines[1:] if f",{iban}," in ln][:2]
    theirs = [ln for ln in lines[1:] if f",{other_account}," in ln][:2]
    bad = [ln.replace(",posted,", ",no-such-status,") for ln in mine + theirs]
    path = folder / f"statement-{iban}.csv"
    path.write_text("\n".join([header, *bad]) + "\n", encoding="utf-8")
    return path


def _fill(store: Store, exports: Path, tmp_path: Path) -> tuple[Store, Path, str]:
    """The bank loaded, enriched, with insights, a budget, a goal, a re-categorization, a score
    and a rejects file naming the target, and the other customers alike."""
    reports = tmp_path / "reports"
    files = [p for p in sorted(exports.iterdir()) if p.is_file() and p.suffix != ""]
    Loader(store, report_dir=reports).ingest(files)
    a = schema.accounts
    accounts = store.rows(select(a.c.id, a.c.customer_id, a.c.currency).order_by(a.c.id))
    mine = [(i, cur) for i, c, cur in accounts if c == TARGET]
    other = [i for i, c, _ in accounts if c == OTHER]
    iban = next(i for i, _ in mine if i[:2].isalpha() and i[2:4].isdigit())
    extra = tmp_path / "extra"
    extra.mkdir()
    Loader(store, report_dir=reports).ingest([
        _bad_statement(exports, extra, iban, other[0]), _transfer(exports, extra, iban, other[0]),
        _correction(exports, extra, iban),
    ])
    run_enrich(store)
    run_insights(store)
    for customer in (TARGET, OTHER):
        account, currency = next((i, cur) for i, c, cur in accounts if c == customer)
        insights_repo.set_budget(store, customer, "FOOD_AND_DRINK", 30_000, currency)
        insights_repo.add_goal(
            store, goal_id=f"G-{customer}", customer_id=customer, name="Holiday",
            account_id=account, target_minor=100_000, currency=currency,
        )
        t = schema.transactions
        txn = store.rows(select(t.c.id).where(t.c.account_id == account).limit(1))[0][0]
        recategorize(store, txn, "FOOD_AND_DRINK_COFFEE")
        with store.transaction() as conn:
            conn.execute(insert(schema.customer_scores).values(
                customer_id=customer, model_name="churn", model_version=1, score=0.3,
                reasons=[{"feature": "logins_30d", "account": account}],
                scored_at=datetime(2025, 5, 1, tzinfo=UTC),
            ))
    return store, reports, iban


def _transfer(exports: Path, folder: Path, iban: str, other_account: str) -> Path:
    """Another customer's transfer to the target's IBAN: their record, naming the target."""
    lines = (exports / "transactions.csv").read_text(encoding="utf-8").splitlines()
    row = next(ln for ln in lines[1:] if f",{other_account}," in ln).split(",")
    row[0], row[6], row[7] = "TX-TRANSFER-1", f"SEPA TRANSFER TO {iban} RENT SHARE", ""
    path = folder / "transfers.csv"
    path.write_text("\n".join([lines[0], ",".join(row)]) + "\n", encoding="utf-8")
    return path


def _correction(exports: Path, folder: Path, iban: str) -> Path:
    """The bank's re-export of one of the target's transactions with another amount: a
    conflict, listed in a conflicts file under the transaction's id (which carries the IBAN)."""
    lines = (exports / "transactions.csv").read_text(encoding="utf-8").splitlines()
    row = next(ln for ln in lines[1:] if f",{iban}," in ln).split(",")
    row[4] = str(int(row[4]) - 1)
    path = folder / "corrections.csv"
    path.write_text("\n".join([lines[0], ",".join(row)]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def bank(store: Store, exports: Path, tmp_path: Path) -> tuple[Store, Path]:
    return _fill(store, exports, tmp_path)


def _needles(store: Store, customer_id: str) -> set[str]:
    """What names the customer: their id, account ids (IBANs among them), transaction and
    derived ids, and the counterparties no other customer's transactions show."""
    a, t = schema.accounts, schema.transactions
    accounts = {r[0] for r in store.rows(select(a.c.id).where(a.c.customer_id == customer_id))}
    rows = store.rows(select(t.c.account_id, t.c.external_id, t.c.counterparty))
    mine = {cp for acc, _, cp in rows if acc in accounts and cp}
    theirs = {cp for acc, _, cp in rows if acc not in accounts and cp}
    external = {ext for acc, ext, _ in rows if acc in accounts and ext}
    derived = set()
    for table, column in (("recurring_series", "series_id"), ("income_streams", "stream_id"),
                          ("insights", "insight_id"), ("savings_goals", "goal_id")):
        tbl = schema.metadata.tables[table]
        derived |= {r[0] for r in store.rows(
            select(tbl.c[column]).where(tbl.c.customer_id == customer_id))}
    unique_names = {n for n in mine - theirs if len(n) >= 6}
    return {customer_id, *accounts, *external, *derived, *unique_names}


def _scan_tables(store: Store, needles: set[str]) -> set[tuple[str, str, str]]:
    """(table, column, needle) for every text, id or JSON column of every table that holds a
    needle; the tables are reflected from the live database."""
    live = MetaData()
    live.reflect(bind=store.engine)
    assert {"customers", "transactions", "erasures"} <= set(live.tables)
    hits = set()
    for table in live.tables.values():
        for column in table.columns:
            if not isinstance(column.type, String | Text | JSON):
                continue
            text = cast(column, Text)
            found = select(text).where(or_(*[text.contains(n, autoescape=True) for n in needles]))
            for (value,) in store.rows(found):  # type: ignore[arg-type]
                hits |= {(table.name, column.name, n) for n in needles if n in value}
    return hits


def _scan_files(folder: Path, needles: set[str]) -> set[tuple[str, str]]:
    hits = set()
    for path in folder.rglob("*"):
        if path.is_file():
            text = path.name + "\n" + path.read_text(encoding="utf-8")
            hits |= {(path.name, n) for n in needles if n in text}
    return hits


def _without_time(export_json: str) -> dict[str, object]:
    document = json.loads(export_json)
    document.pop("exported_at")
    return document  # type: ignore[no-any-return]


def test_erase_leaves_nothing_of_the_customer_but_what_it_says_it_kept(
    bank: tuple[Store, Path, str],
) -> None:
    store, reports, iban = bank
    _check_export(store)
    needles = _needles(store, TARGET)
    assert len(needles) > 20, needles
    assert _scan_tables(store, needles) and _scan_files(reports, needles)  # the scan can see
    other_before = export_customer(store, OTHER, requested_by="test").to_json()
    counts_before = {t.name: len(store.rows(select(t.table))) for t in held_tables(store)[0]}

    report = erase_customer(store, TARGET, erased_by="dpo@bank", key=KEY, report_dirs=[reports])

    assert _scan_tables(store, needles) == set()
    assert _scan_files(reports, needles) == set()
    # The tables with the customer's rows lost exactly those, and the other customers are intact.
    counts_after = {t.name: len(store.rows(select(t.table))) for t in held_tables(store)[0]}
    assert {t: counts_before[t] - counts_after[t] for t in counts_before} == report.rows_deleted
    for table in ("customers", "accounts", "transactions", "events", "consents", "insights",
                  "recurring_series", "budgets", "savings_goals", "recategorizations",
                  "customer_scores", "customer_protected"):
        assert report.rows_deleted[table] > 0, table
    # The other customer keeps every row; their transfer names the target's IBAN masked.
    other_after = export_customer(store, OTHER, requested_by="test").to_json()
    assert f"SEPA TRANSFER TO {iban}" in other_before
    expected = other_before.replace(iban, mask(iban))
    assert _without_time(other_after) == _without_time(expected)
    # What it kept: the tombstone, recognisable with the key only; masked file paths.
    assert erased_on(store, TARGET, key=KEY) is not None
    assert erased_on(store, TARGET, key=b"another key") is None
    assert report.masked == {
        "imports.path": 1, "imports.rejects_path": 1, "transactions.description": 1}
    kept = " ".join(k.what for k in report.kept)
    assert "tombstone in erasures" in kept and "imports.path" in kept
    (rejects,) = [p for p in report.report_files if p.endswith(".rejects.csv")]
    assert report.report_files[rejects] == 2 and "…" in Path(rejects).name
    (conflicts,) = [p for p in report.report_files if p.endswith(".conflicts.csv")]
    assert report.report_files[conflicts] == 1  # the target's corrected transaction
    assert "no-such-status" in Path(rejects).read_text(encoding="utf-8")  # the other's lines


def _check_export(store: Store) -> None:
    """The export holds a row of every table the fixture fills, and nobody else's rows."""
    export = export_customer(store, TARGET, requested_by="dpo@bank")
    held = {t.name for t in held_tables(store)[0]}
    assert set(export.tables) == held
    for table in ("customers", "customer_protected", "accounts", "transactions", "events",
                  "consents", "insights", "recurring_series", "income_streams", "budgets",
                  "savings_goals", "recategorizations", "customer_scores"):
        assert export.tables[table], f"{table} exported nothing"
    for table, rows in export.tables.items():
        for row in rows:
            owner = row.get("customer_id", row.get("id"))
            assert owner == TARGET or str(row.get("account_id", "")) in {
                a["id"] for a in export.tables["accounts"]}, (table, row)
    document = json.loads(export.to_json())
    assert document["customer_id"] == TARGET
    assert {p["id"] for p in document["products"]} == {
        a["product_id"] for a in export.tables["accounts"]}
    log = store.rows(select(schema.protected_access_log.c.requested_by))
    assert ("dpo@bank",) in [tuple(r) for r in log]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda s: export_customer(s, "NOBODY-123", requested_by="t"), NotFoundError,
         "customer …-123 is not in the store"),
        (lambda s: erase_customer(s, "NOBODY-123", erased_by="t", key=KEY), NotFoundError,
         "customer …-123 is not in the store"),
        (lambda s: erase_customer(s, TARGET, erased_by=" ", key=KEY), ValidationError,
         "an erasure needs erased_by: who asked for it"),
    ],
)
def test_invalid_requests_are_refused(
    sqlite_store: Store, call: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        call(sqlite_store)  # type: ignore[operator]


def test_cli_export_to_a_private_file_and_erase(
    sqlite_store: Store, exports: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, reports, _ = _fill(sqlite_store, exports, tmp_path)
    monkeypatch.setattr(trust_cli.console, "width", 200)
    monkeypatch.setenv("TACTFUL_SECRET_KEY", KEY.decode())
    out = tmp_path / "export.json"
    done = runner.invoke(app, ["export", TARGET, "--out", str(out), "--db", store.url],
                         catch_exceptions=False)
    assert done.exit_code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert json.loads(out.read_text(encoding="utf-8"))["customer_id"] == TARGET
    erased = runner.invoke(app, ["erase", TARGET, "--yes", "--reports", str(reports),
                                 "--db", store.url], catch_exceptions=False)
    assert erased.exit_code == 0
    assert "Erased customer …0001" in erased.output and "Kept" in erased.output
    assert "a tombstone in erasures: pseudonym" in erased.output
    assert TARGET not in erased.output
    again = runner.invoke(app, ["export", TARGET, "--db", store.url])
    assert isinstance(again.exception, NotFoundError)


def test_the_banks_next_file_does_not_bring_an_erased_customer_back(
    bank: tuple[Store, Path, str], exports: Path, tmp_path: Path,
) -> None:
    """The nightly export still carries the customer: re-importing it must not undo the
    erasure, and every other customer's rows still load."""
    store, _reports, _iban = bank
    needles = _needles(store, TARGET)
    erase_customer(store, TARGET, erased_by="dpo@bank", key=KEY)
    files = [p for p in sorted(exports.iterdir()) if p.is_file() and p.suffix != ""]
    others_before = export_customer(store, OTHER, requested_by="test").to_json()

    report = Loader(store, report_dir=tmp_path / "again", erasure_key=KEY).ingest(files)

    assert _scan_tables(store, needles) == set()
    assert sum(f.erased for f in report.files) > 20
    assert any("erased customers not loaded" in n for f in report.files for n in f.notes)
    others_after = export_customer(store, OTHER, requested_by="test").to_json()
    assert _without_time(others_after) == _without_time(others_before)
    # Under another key the tombstone says nothing: the customer comes back, as the erasure
    # report warned when it was made without the bank's key.
    Loader(store, report_dir=tmp_path / "blind", erasure_key=b"another key").ingest(files)
    assert _scan_tables(store, needles) != set()


def test_the_services_erasure_scrubs_the_import_reports_as_the_cli_does(
    bank: tuple[Store, Path, str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The API's erasure (``service.customers.erase``) reaches the reports folder it is
    configured with, not only the store: a rejects or conflicts line left behind would still
    name the customer."""
    from tactful.service.customers import erase

    store, reports, _ = bank
    needles = _needles(store, TARGET)
    assert _scan_files(reports, needles)
    monkeypatch.setenv("TACTFUL_REPORT_DIR", str(reports))
    monkeypatch.setenv("TACTFUL_SECRET_KEY", "k" * 40)
    erase(store, customer_id=TARGET, erased_by="api key k-1")
    assert _scan_files(reports, needles) == set()
