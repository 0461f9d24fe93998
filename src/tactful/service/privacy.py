"""The customer's rights as an operator exercises them from the command line: the export of
everything held (GDPR 15/20) written as a private file, and the erasure (GDPR 17) with the
report folders scrubbed and the pseudonym key read from the environment. The work is
``tactful.trust``; the API's answers to the same rights are in ``customers``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tactful.store.store import Store
from tactful.trust.erasure import SECRET_KEY_ENV, ErasureReport
from tactful.trust.export import CustomerExport
from tactful.trust.privacy import mask

__all__ = [
    "SECRET_KEY_ENV",
    "CustomerExport",
    "ErasureReport",
    "erase",
    "erasure_key",
    "export",
    "mask",
    "write_private",
]


def export(store: Store, *, customer_id: str, requested_by: str) -> CustomerExport:
    """Every row the store holds about the customer; ``requested_by`` is logged."""
    from tactful.trust.export import export_customer

    return export_customer(store, customer_id, requested_by=requested_by)


def write_private(path: Path, text: str) -> None:
    """``text`` into ``path``, readable by its owner only (0600)."""
    from tactful.trust.privacy import write_private_text

    write_private_text(path, text)


def erasure_key() -> bytes | None:
    """The key that pseudonymizes what an erasure keeps (``TACTFUL_SECRET_KEY``), or None."""
    from tactful.trust.erasure import secret_key_from_env

    return secret_key_from_env()


def erase(store: Store, *, customer_id: str, erased_by: str, key: bytes | None,
          report_dirs: Sequence[Path]) -> ErasureReport:
    """Remove the customer's personal data from every table and the report folders."""
    from tactful.trust.erasure import erase_customer

    return erase_customer(store, customer_id, erased_by=erased_by, key=key,
                          report_dirs=report_dirs)
