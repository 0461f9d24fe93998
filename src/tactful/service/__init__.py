"""The application layer: one keyword-only function per use case, for every face.

The command line, the REST API (``tactful.api``), the demo and a later dashboard call these
functions and nothing deeper, so a use case is written once: the feed and "why" (``feed``),
ingestion and the real-time path (``ingest``), files of a bank loaded in bulk (``files``),
feedback (``feedback``), the customer's preferences, consents, profile, export and erasure
(``customers``; as an operator runs them, ``privacy``), API keys (``keys``), the answers kept
for idempotent retries (``idempotency``), the decision commands (``decisions``), enrichment and
the bank's rules (``understand``), insights (``insights``), models (``models``), measuring
(``measure``), the outbox (``delivery``) and what the demo reads (``demo``). Each returns typed
records (``records``, or the engine's own frozen reports) and reports progress through
callbacks; none prints. ``context`` opens the store for a face (``session``: for the length of
one command), ``clock`` says when "now" is, ``choices`` holds the light enums a command's
signature names.

Modules are imported by their users one by one: importing ``tactful.service`` costs nothing,
so ``tactful --help`` stays fast.
"""
