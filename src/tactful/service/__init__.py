"""The application layer: one keyword-only function per use case, for every face.

The command line, the REST API (``tactful.api``), the demo and a later dashboard call these
functions and nothing deeper, so a use case is written once: the feed and "why" (``feed``),
ingestion and the real-time path (``ingest``), feedback (``feedback``), the customer's
preferences, consents, profile, export and erasure (``customers``), API keys (``keys``), the
answers kept for idempotent retries (``idempotency``) and the decision commands
(``decisions``). Each returns typed records (``records``) and reports progress through
callbacks; none prints. ``context`` opens the store for a face, ``clock`` says when "now" is.

Modules are imported by their users one by one: importing ``tactful.service`` costs nothing,
so ``tactful --help`` stays fast.
"""
