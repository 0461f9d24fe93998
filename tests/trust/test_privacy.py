"""Privacy by default: masked identifiers in notes and messages, no row data in store errors,
and files of customer data readable by their owner only."""

from __future__ import annotations

import json
import stat
import traceback
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from tactful.cli import app as cli
from tactful.cli.app import app
from tactful.errors import StoreError
from tactful.ingest.loader import Loader
from tactful.store.store import Store
from tactful.trust.privacy import mask, mask_in, private_open, pseudonym

DATA = Path(__file__).parents[1] / "data"
IBAN = "DE89370400440532013000"
runner = CliRunner()


@pytest.mark.parametrize(
    ("identifier", "masked"),
    [
        (IBAN, "…3000"),
        ("CUS-00000042", "…0042"),
        ("GB-CC-4417", "…4417"),
        ("12345678", "…5678"),
        ("1234567", "…"),  # shorter than 8: four characters would give most of it away
        ("C-7", "…"),
        ("", "…"),
        (None, "…"),
    ],
)
def test_mask_shows_the_last_four_characters_of_long_identifiers_only(
    identifier: str | None, masked: str
) -> None:
    assert mask(identifier) == masked


def test_mask_in_masks_the_longest_identifier_first() -> None:
    text = f"rows of {IBAN}:TX-1 and {IBAN}"
    assert mask_in(text, [IBAN, f"{IBAN}:TX-1"]) == "rows of …TX-1 and …3000"


def test_pseudonym_is_keyed_and_stable() -> None:
    assert pseudonym("C-1001", b"k1") == pseudonym("C-1001", b"k1")
    assert pseudonym("C-1001", b"k1") != pseudonym("C-1001", b"k2")
    assert "C-1001" not in pseudonym("C-1001", b"k1")
    with pytest.raises(ValueError, match="non-empty key"):
        pseudonym("C-1001", b"")


def test_a_note_about_an_iban_shows_its_last_four_characters_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A statement whose accounts are not (yet) known makes a note naming one: on the console
    and in summary.json it is '…2051', never the IBAN."""
    monkeypatch.setattr(cli.console, "width", 200)
    reports = tmp_path / "reports"
    result = runner.invoke(
        app,
        [
            "ingest",
            str(DATA / "transactions_sparkasse_de.csv"),
            "--report-dir",
            str(reports),
            "--db",
            f"sqlite:///{tmp_path / 'tactful.db'}",
        ],
        catch_exceptions=False,
    )
    ibans = (IBAN, "DE02120300000000202051")
    assert "2 account(s) not (yet) in the store, e.g. …2051:" in result.output
    summary = (reports / "summary.json").read_text(encoding="utf-8")
    (notes,) = [f["notes"] for f in json.loads(summary)]
    assert any("e.g. …2051:" in n for n in notes)
    for iban in ibans:
        assert iban not in result.output and iban not in summary


def _formatted(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


def test_a_store_error_carries_no_row_values(store: Store) -> None:
    """A NOT NULL violation on either backend: PostgreSQL quotes the failing row (IBAN,
    amount, description) in its message; the StoreError and its traceback must not."""
    row = pl.DataFrame(
        {
            "id": [f"{IBAN}:TX-SECRET"],
            "account_id": [IBAN],
            "booked_at": [datetime(2024, 1, 2, tzinfo=UTC)],
            "amount_minor": [-115_077],
            "currency": [None],
            "description": ["Miete Whg 3.OG Schmidt"],
        },
        schema_overrides={"currency": pl.Utf8},
    )
    with pytest.raises(StoreError) as caught, store.transaction() as conn:
        Store.write(conn, "transactions", row)
    shown = _formatted(caught.value)
    assert "transactions" in str(caught.value)
    for value in (IBAN, "TX-SECRET", "115077", "-115077", "Schmidt"):
        assert value not in shown, value


@pytest.mark.postgres
def test_a_postgresql_data_error_during_a_bulk_write_shows_no_row_values(pg_server: str) -> None:
    """A counterparty longer than the column holds, written through the bulk COPY path (ingest
    now rejects such a value before the store, on both backends): PostgreSQL refuses the COPY
    and quotes the value and line; the error names the table, column and COPY line only."""
    from tests.conftest import _pg_database

    row = pl.DataFrame(
        {
            "id": [f"{IBAN}:TX-1"],
            "account_id": [IBAN],
            "booked_at": [datetime(2024, 1, 2, tzinfo=UTC)],
            "amount_minor": [-115_077],
            "currency": ["EUR"],
            "description": ["Miete Januar"],
            "counterparty": ["Hausverwaltung Schmidt " + "X" * 200],
        }
    )
    for url in _pg_database(pg_server):
        store = Store.open(url)
        try:
            with pytest.raises(StoreError) as caught, store.transaction() as conn:
                Store.write(conn, "transactions", row)
        finally:
            store.close()
    message = str(caught.value)
    assert "table transactions" in message and "column counterparty" in message
    assert "StringDataRightTruncation [SQLSTATE 22001]" in message
    shown = _formatted(caught.value)
    for value in (IBAN, "Schmidt", "XXXXXXXX", "115077", "Miete"):
        assert value not in shown, value


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_store_and_reports_are_created_readable_by_their_owner_only(tmp_path: Path) -> None:
    db = tmp_path / "new" / "tactful.db"
    store = Store.open(f"sqlite:///{db}")
    reports = tmp_path / "reports" / "today"
    try:
        report = Loader(store, report_dir=reports).ingest(
            [DATA / "transactions_sparkasse_de.csv"]
        )
    finally:
        store.close()
    assert report.rejected > 0 and report.files[0].rejects_path is not None
    assert _mode(db) == 0o600
    assert _mode(db.parent) == 0o700
    for sidecar in (db.with_name("tactful.db-wal"), db.with_name("tactful.db-shm")):
        if sidecar.exists():
            assert _mode(sidecar) == 0o600, sidecar
    assert _mode(reports) == 0o700 and _mode(reports.parent) == 0o700
    assert _mode(reports / "summary.json") == 0o600
    assert _mode(Path(report.files[0].rejects_path)) == 0o600


def test_an_existing_folder_keeps_its_mode_and_an_old_report_is_tightened(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    old = shared / "summary.json"
    old.write_text("{}", encoding="utf-8")
    old.chmod(0o644)
    with private_open(old) as fh:
        fh.write("[]")
    assert _mode(shared) == 0o755
    assert _mode(old) == 0o600
    assert old.read_text(encoding="utf-8") == "[]"
    with pytest.raises(ValueError, match="writes text files; mode 'r' does not"):
        private_open(old, "r")
