"""One exception tree for everything a user can cause.

    TactfulError                     (500)
    ├── ConfigError                  (400)  bad settings or mapping file
    ├── ValidationError              (422)  a value that breaks a domain rule
    │   └── SignatureRejected        (401)  a webhook whose signature, time or key is refused
    ├── NotFoundError                (404)  an id that is not in the store
    ├── StoreError                   (503)  the store cannot be reached or migrated
    │   └── ArtifactRefused          (503)  a model artifact not provably written by this engine
    ├── IngestError                  (400)  a file that cannot be read at all
    ├── RunInProgressError           (409)  the same batch command is already running
    └── ConflictError                (409)  a request that contradicts an earlier one (an
                                            Idempotency-Key reused for another request)

Each error carries the HTTP status the API will answer with, so the faces never guess.
Lower-level errors are mapped at the boundary with ``raise ... from exc``.
"""

from __future__ import annotations


class TactfulError(Exception):
    """Base of every error Tactful raises on purpose."""

    status_code: int = 500


class ConfigError(TactfulError):
    status_code = 400


class ValidationError(TactfulError, ValueError):
    status_code = 422


class SignatureRejected(ValidationError):
    """A signed webhook refused by its receiver: bad or missing signature, a timestamp outside
    the tolerance, or a replay of a request already accepted (deliver/signature.py)."""

    status_code = 401


class NotFoundError(TactfulError, LookupError):
    status_code = 404


class StoreError(TactfulError):
    status_code = 503


class ArtifactRefused(StoreError):
    """A stored model that will not be loaded: its checksum or signature does not match, or it is
    in a format that could run code and carries no valid signature (see docs/security.md)."""


class IngestError(TactfulError):
    status_code = 400


class RunInProgressError(TactfulError):
    """Another run of the same batch command holds its lock; the message names that run."""

    status_code = 409


class ConflictError(TactfulError):
    """A request that contradicts one already answered: an ``Idempotency-Key`` sent again with
    another request."""

    status_code = 409
