"""What an API key may do. Its own module, importing nothing heavy, because the command line
names it in ``tactful keys create``'s signature (``tactful --help`` must stay fast)."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Scope"]


class Scope(StrEnum):
    """``app`` reads and writes one customer's feed, feedback, preferences, consents, profile
    and export; ``ingest`` posts transactions and events; ``admin`` does everything, erasure
    included."""

    APP = "app"
    INGEST = "ingest"
    ADMIN = "admin"
