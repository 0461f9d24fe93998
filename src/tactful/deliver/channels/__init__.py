"""The channels a message can go through: the in-app feed, e-mail over SMTP and a signed
webhook, each a plug-in of the ``channels`` registry (:mod:`~tactful.deliver.channels.base`)."""

from __future__ import annotations

from tactful.deliver.channels import in_app, mail, webhook
from tactful.deliver.channels.base import AdapterFactory, ChannelAdapter, channels

__all__ = ["AdapterFactory", "ChannelAdapter", "channels", "in_app", "mail", "webhook"]
