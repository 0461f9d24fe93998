"""Whatever bytes arrive, the importer ends with rows loaded or rejects with reasons: no crash."""

from __future__ import annotations

import csv
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tactful.ingest.loader import Loader
from tactful.ingest.readers import detect_format
from tactful.store.store import Store

PREFIXES = [
    b"",
    b"\xef\xbb\xbfdate;amount;currency;account\n",
    b"transaction_id,account_id,booked_at,amount,currency\n",
    b'{"customer_id": "C1", "type": "login", "timestamp": ',
    b"PAR1",
]

_settings = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_settings
@given(prefix=st.sampled_from(PREFIXES), body=st.binary(max_size=600))
def test_arbitrary_bytes_never_crash_the_importer(
    tmp_path_factory,
    prefix: bytes,  # type: ignore[no-untyped-def]
    body: bytes,
) -> None:
    tmp = tmp_path_factory.mktemp("fuzz")
    path = tmp / "upload.csv"
    path.write_bytes(prefix + body)
    store = Store.open(f"sqlite:///{tmp / 't.db'}")
    try:
        (report,) = Loader(store, report_dir=tmp / "rep").ingest([path]).files
    finally:
        store.close()
    loaded = report.inserted + report.duplicates + report.updated
    assert report.rejected + loaded >= 0
    if report.rejected:
        assert report.rejects_path is not None
        with open(report.rejects_path, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert len(rows) == report.rejected
        assert all(r["reason"].strip() for r in rows)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_format_detection_never_raises(data: bytes) -> None:
    path = Path("/nonexistent/whatever.dat")
    detect_format(path, head=data)


@_settings
@given(
    rows=st.lists(
        st.tuples(st.text(max_size=12), st.text(max_size=12), st.text(max_size=12)), max_size=20
    )
)
def test_arbitrary_cell_values_are_loaded_or_rejected(tmp_path_factory, rows) -> None:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("cells")
    path = tmp / "t.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["account_id", "booked_at", "amount", "currency"])
        for account, booked, amount in rows:
            out.writerow([account, booked, amount, "EUR"])
    store = Store.open(f"sqlite:///{tmp / 't.db'}")
    try:
        (report,) = Loader(store, report_dir=tmp / "rep").ingest([path]).files
        loaded = store.counts()["transactions"]
    finally:
        store.close()
    nonblank = sum(1 for r in rows if any(c.strip() for c in (*r, "EUR")))
    assert loaded + report.rejected + report.duplicates >= min(nonblank, 1) or not rows
    assert loaded <= len(rows)
