"""One pydantic Settings object, built when asked for (never at import time)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DB_PATH = Path("tactful.db")


class Settings(BaseSettings):
    """Settings read from ``TACTFUL_*`` environment variables.

    ``TACTFUL_DATABASE_URL`` chooses the store: ``sqlite:///path/to.db`` (the default, one file,
    no server) or ``postgresql+psycopg://user@host/db`` for production.
    """

    model_config = SettingsConfigDict(env_prefix="TACTFUL_", extra="ignore")

    database_url: str = Field(default=f"sqlite:///{DEFAULT_DB_PATH}")
    ingest_batch_size: int = Field(default=50_000, gt=0)
    mapping_file: Path | None = None
    model_dir: Path | None = None
    """Where model artifacts go (``TACTFUL_MODEL_DIR``); default: ``models/`` beside the SQLite
    file, or ``./models`` for a server database."""
    secret_key: SecretStr | None = None
    """The key that signs the model artifacts that must stay pickles (``TACTFUL_SECRET_KEY``, at
    least 32 characters). Unset: a random key is generated on first use into ``secret_key_file``
    with mode 0600. Never stored in the database nor beside the artifacts it signs."""
    secret_key_file: Path | None = None
    """Where the generated key lives (``TACTFUL_SECRET_KEY_FILE``); default
    ``$XDG_CONFIG_HOME/tactful/secret.key`` (``~/.config/tactful/secret.key``)."""
    report_dir: Path = Path("ingest-reports")
    """Where imports write their rejects, conflicts and summary (``TACTFUL_REPORT_DIR``): the
    folder an erasure scrubs, whichever face asked for it."""
    spark_master: str = "local[2]"
    """Where ``--executor spark`` runs shards (``TACTFUL_SPARK_MASTER``): ``local[N]`` on this
    machine, or a cluster's master URL (``spark://host:7077``, ``yarn``, ``k8s://...``)."""
    api_clock: Literal["now", "data"] = "now"
    """When the service's "now" is (``TACTFUL_API_CLOCK``): the wall clock, or ``data`` -- the
    data's own latest moment, for a demo bank whose data lie in the past."""
    api_max_body_bytes: int = Field(default=1_048_576, gt=0)
    """The largest request body the API reads (``TACTFUL_API_MAX_BODY_BYTES``); larger: 413."""
    api_rate_per_second: float = Field(default=100.0, gt=0)
    """Requests a second one API key may make, sustained (``TACTFUL_API_RATE_PER_SECOND``)."""
    api_max_in_flight: int = Field(default=8, gt=0)
    """Requests one API process serves at once (``TACTFUL_API_MAX_IN_FLIGHT``); more are
    answered 503 with ``Retry-After`` at once rather than queued past any client's timeout."""
    api_burst: int = Field(default=200, gt=0)
    """Requests one API key may make at once above that rate (``TACTFUL_API_BURST``)."""
    api_deliver: bool = False
    """Whether an API process also runs the outbox worker (``TACTFUL_API_DELIVER``; ``tactful
    serve`` turns it on unless told ``--no-deliver``)."""


def get_settings() -> Settings:
    return Settings()
