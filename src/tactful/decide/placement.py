"""Where a decision's message would go: the placement, and the channels each one allows.

Its own module, importing nothing heavy, because the CLI names it in ``tactful decide``'s
signature: printing ``tactful --help`` must not load the decision policy (NumPy, the store).
"""

from __future__ import annotations

from enum import StrEnum

from tactful.domain.enums import Channel

__all__ = ["Placement"]


class Placement(StrEnum):
    FEED = "feed"
    PUSH = "push"
    EMAIL = "email"
    SMS = "sms"
    OUTBOUND = "outbound"

    @property
    def channels(self) -> tuple[Channel, ...]:
        return {
            Placement.FEED: (Channel.IN_APP,),
            Placement.PUSH: (Channel.PUSH,),
            Placement.EMAIL: (Channel.EMAIL,),
            Placement.SMS: (Channel.SMS,),
            Placement.OUTBOUND: (Channel.IN_APP, Channel.PUSH, Channel.EMAIL, Channel.SMS),
        }[self]
