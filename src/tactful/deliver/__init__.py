"""Deliver: the outbox, the worker that empties it, and the channels it sends through.

A decision to send (``decisions`` with ``silent`` false) becomes one outbox row keyed by an
idempotency key derived from the decision id (:mod:`~tactful.deliver.outbox`); the worker
(:mod:`~tactful.deliver.worker`) claims due rows, checks consent, opt-outs and quiet hours
again at send time (:mod:`~tactful.deliver.checks`), hands them to a channel adapter
(:mod:`~tactful.deliver.channels`: in-app feed, email over SMTP, signed webhook) and records
the result, retrying failures with exponential back-off. Transport is at-least-once; the key
makes the effect once (docs/deliver.md).
"""
