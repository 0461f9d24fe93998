"""The channel adapter's contract, and the registry every adapter is found through.

An adapter takes a batch of claimed messages and answers one :class:`SendResult` per message:
sent, or failed (worth retrying or not). It never raises for one message's failure -- that is a
result -- so one bad address cannot fail a batch. It owns its connections (an SMTP session, an
HTTP connection pool) for the worker's life and releases them in ``close``.

A bank adds a channel (its own push gateway, a chat platform) by registering a factory under a
name, in code or through the ``tactful.channels`` entry point group, and routing a decision
channel to it (``TACTFUL_DELIVER_ROUTES``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from tactful.deliver.message import OutboundMessage, SendResult
from tactful.deliver.settings import DeliverySettings
from tactful.plugins import Registry
from tactful.store.store import Store

__all__ = ["AdapterFactory", "ChannelAdapter", "channels"]


class ChannelAdapter(Protocol):
    def send(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        """One result per message, in any order."""
        ...

    def close(self) -> None: ...


AdapterFactory = Callable[[DeliverySettings, Store], ChannelAdapter]

channels: Registry[AdapterFactory] = Registry("channels")
