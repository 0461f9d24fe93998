"""Experiment definitions and assignment: A/B/n arms and a global holdout, by a salted hash.

Assignment is a pure function of the experiment's salt and the customer id -- SHA-256 of
``salt:customer_id``, its first 8 bytes read as a number in [0, 1) -- so it needs no table of
who-is-where, is the same on every machine and every run, and two experiments with different
salts are independent. The unit interval is cut into the holdout (its share first) and then the
arms in proportion to their weights: changing an arm's weight moves only the customers near the
boundary it shifts, and the holdout keeps its customers when arms change.

The **global holdout** is a share of customers who receive no marketing at all while the
experiment runs (service messages and insights still reach them: a bank may not withhold a
security alert to measure it); it measures the whole program's incremental effect. The decision
layer asks :func:`assignments` for every decision and logs the arms it ran under with it.

>>> e = Experiment("tone", arms=(Arm("control", 1), Arm("friendly", 1)), holdout=0.1,
...                starts_at=datetime(2026, 3, 1, tzinfo=UTC))
>>> assign(e, "CUS-00000001") in ("holdout", "control", "friendly")
True
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from tactful.domain.actions import OutcomeKind
from tactful.domain.enums import Channel
from tactful.domain.records import require_aware
from tactful.errors import ValidationError

HOLDOUT: Final = "holdout"
"""The arm name of the global holdout (reserved: no arm may take it)."""
METRICS: Final = (OutcomeKind.OPEN, OutcomeKind.CLICK, OutcomeKind.CONVERT,
                  OutcomeKind.DISMISS, OutcomeKind.OPT_OUT)
"""Outcomes an experiment may be judged by: the share of customers with at least one."""
MAX_HOLDOUT: Final = 0.5
VARIANTS: Final = ("friendly", "short")
"""Message variants an arm may apply (``deliver/variants.py`` says how): a tone and a format."""
_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")


def _name(value: str, what: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValidationError(f"{what} must be 1-64 characters of a-z, 0-9, _ or -, starting "
                              f"with a letter or digit; got {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class Arm:
    """An arm; ``channel`` makes it a channel test: the customers in it get their messages on
    that channel wherever the customer, the action and the placement allow it; ``variant``
    makes it a message-variant test: their messages are worded that way (one of
    :data:`VARIANTS`)."""

    name: str
    weight: float = 1.0
    channel: Channel | None = None
    variant: str | None = None

    def __post_init__(self) -> None:
        _name(self.name, "arm name")
        if self.channel is not None:
            try:
                object.__setattr__(self, "channel", Channel(self.channel))
            except ValueError as exc:
                allowed = ", ".join(c.value for c in Channel)
                raise ValidationError(f"arm {self.name}: channel must be one of {allowed}; "
                                      f"got {self.channel!r}") from exc
        if self.variant is not None and self.variant not in VARIANTS:
            raise ValidationError(f"arm {self.name}: variant must be one of "
                                  f"{', '.join(VARIANTS)}; got {self.variant!r}")
        if self.name == HOLDOUT:
            raise ValidationError(f"arm name {HOLDOUT!r} is reserved for the global holdout")
        if isinstance(self.weight, bool) or not isinstance(self.weight, int | float) or not (
                self.weight > 0):
            raise ValidationError(f"arm {self.name}: weight must be a number > 0; "
                                  f"got {self.weight!r}")


def parse_arm(text: str) -> Arm:
    """``NAME[:WEIGHT[:CHANNEL]]``, as the command line writes an arm."""
    name, _, rest = text.partition(":")
    weight, _, channel = rest.partition(":")
    try:
        value = float(weight) if weight else 1.0
    except ValueError as exc:
        raise ValidationError(f"arm {text!r}: write NAME[:WEIGHT[:CHANNEL]]") from exc
    try:
        chosen = Channel(channel) if channel else None
    except ValueError as exc:
        allowed = ", ".join(c.value for c in Channel)
        raise ValidationError(f"arm {name}: channel must be one of {allowed}; "
                              f"got {channel!r}") from exc
    return Arm(name, value, chosen)


@dataclass(frozen=True, slots=True)
class Experiment:
    """An experiment's definition. ``salt`` defaults to the name: two experiments never share
    an assignment unless told to."""

    name: str
    arms: tuple[Arm, ...]
    starts_at: datetime
    holdout: float = 0.0
    metric: OutcomeKind | str = OutcomeKind.CLICK
    salt: str = ""
    ends_at: datetime | None = None
    stopped_at: datetime | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        _name(self.name, "experiment name")
        if not self.salt:
            object.__setattr__(self, "salt", self.name)
        if not isinstance(self.salt, str) or len(self.salt) > 128:
            raise ValidationError("salt must be a string of at most 128 characters")
        arms = tuple(self.arms)
        object.__setattr__(self, "arms", arms)
        names = [a.name for a in arms]
        if len(set(names)) != len(names):
            raise ValidationError(f"experiment {self.name}: arm names repeat: {names}")
        if isinstance(self.holdout, bool) or not isinstance(self.holdout, int | float) or not (
                0.0 <= self.holdout <= MAX_HOLDOUT):
            raise ValidationError(f"experiment {self.name}: holdout must be a share from 0 to "
                                  f"{MAX_HOLDOUT}; got {self.holdout!r}")
        if not arms or (len(arms) < 2 and self.holdout == 0):
            raise ValidationError(f"experiment {self.name}: needs two arms, or one arm and a "
                                  "holdout")
        try:
            metric = OutcomeKind(self.metric)
        except ValueError:
            metric = None
        if metric not in METRICS:
            allowed = ", ".join(m.value for m in METRICS)
            raise ValidationError(f"experiment {self.name}: metric must be one of {allowed}; "
                                  f"got {self.metric!r}")
        object.__setattr__(self, "metric", metric)
        require_aware(self.starts_at, "starts_at")
        if self.ends_at is not None and require_aware(self.ends_at, "ends_at") <= self.starts_at:
            raise ValidationError(f"experiment {self.name}: ends_at must be after starts_at")
        if self.stopped_at is not None:
            require_aware(self.stopped_at, "stopped_at")

    @property
    def metric_kind(self) -> OutcomeKind:
        return OutcomeKind(self.metric)

    @property
    def control(self) -> str:
        """The first arm: the one every other arm is compared with."""
        return self.arms[0].name

    def shares(self) -> dict[str, float]:
        """Arm -> the share of customers it should get (the holdout included when it has one)."""
        total = sum(a.weight for a in self.arms)
        out = {HOLDOUT: float(self.holdout)} if self.holdout > 0 else {}
        out.update({a.name: (1 - self.holdout) * a.weight / total for a in self.arms})
        return out

    def end(self) -> datetime | None:
        """When it stops counting: stopped, or its planned end, whichever is first."""
        ends = [t for t in (self.ends_at, self.stopped_at) if t is not None]
        return min(ends) if ends else None

    def is_active(self, at: datetime) -> bool:
        end = self.end()
        return self.starts_at <= at and (end is None or at < end)


def bucket(salt: str, customer_id: str) -> float:
    """The customer's place in [0, 1) under ``salt``."""
    digest = hashlib.sha256(f"{salt}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0 ** 64


def assign(experiment: Experiment, customer_id: str) -> str:
    """The arm (or ``"holdout"``) of ``customer_id`` in ``experiment``."""
    u = bucket(experiment.salt, customer_id)
    edge = 0.0
    shares = experiment.shares()
    for arm, share in shares.items():
        edge += share
        if u < edge:
            return arm
    return experiment.arms[-1].name  # u within rounding of 1.0


def assignments(experiments: Sequence[Experiment], customer_id: str, at: datetime) -> (
    tuple[tuple[str, str], ...]
):
    """(experiment, arm) for every experiment active at ``at``: what a decision logs."""
    return tuple((e.name, assign(e, customer_id))
                 for e in sorted(experiments, key=lambda e: e.name) if e.is_active(at))


def arm_channel(experiments: Sequence[Experiment], customer_id: str, at: datetime) -> (
    Channel | None
):
    """The channel a channel-test arm assigns the customer (the first experiment by name that
    has one), else None."""
    for e in sorted(experiments, key=lambda e: e.name):
        if e.is_active(at):
            arm = assign(e, customer_id)
            channel = next((a.channel for a in e.arms if a.name == arm), None)
            if channel is not None:
                return channel
    return None


def in_holdout(assigned: Sequence[tuple[str, str]]) -> str | None:
    """The experiment whose global holdout the customer is in, if any."""
    return next((name for name, arm in assigned if arm == HOLDOUT), None)


def variant_of(experiments: Sequence[Experiment], logged: Mapping[str, str] | None) -> (
    str | None
):
    """The message variant a decision's logged arms (experiment -> arm) ask for: the first
    experiment by name whose arm has one, else None. The logged arm, not a fresh assignment,
    so the message says what the decision's experiment recorded.

    >>> e = Experiment("tone", arms=(Arm("plain"), Arm("warm", variant="friendly")),
    ...                starts_at=datetime(2026, 3, 1, tzinfo=UTC))
    >>> variant_of([e], {"tone": "warm"}), variant_of([e], {"tone": "plain"}), variant_of([e], None)
    ('friendly', None, None)
    """
    if not logged:
        return None
    for e in sorted(experiments, key=lambda e: e.name):
        arm = logged.get(e.name)
        variant = next((a.variant for a in e.arms if a.name == arm), None)
        if variant is not None:
            return variant
    return None
