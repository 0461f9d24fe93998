"""What a simulation run is asked for: size, period, seed and the mix of regions and personas.

Validated at construction with the parameter's name in the message; nothing is clamped.

>>> SimulationConfig(customers=10, months=1, seed=1).end
datetime.date(2024, 2, 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from tactful.errors import ValidationError

DEFAULT_REGION_WEIGHTS: tuple[float, float, float] = (0.4, 0.25, 0.35)
"""EU, UK, US."""


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    return date(d.year + y, m + 1, 1)


@dataclass(frozen=True, slots=True)
class SimulationConfig:
    """A run: ``customers`` customers over ``months`` calendar months from ``start``.

    ``start`` must be the first day of a month (statements, bills and pay cycles are monthly,
    and a window cut mid-month would make every monthly figure of the first month wrong).
    ``chunk_size`` bounds memory; it does not change the output.
    """

    customers: int = 1000
    months: int = 12
    seed: int = 0
    start: date = date(2024, 1, 1)
    chunk_size: int = 1000
    region_weights: tuple[float, float, float] = DEFAULT_REGION_WEIGHTS
    persona_weights: tuple[float, ...] | None = field(default=None)
    unseen_merchants: bool = False
    """Draw card merchants and their printing from a world disjoint from the engine's merchant
    directory and rules (``merchant_catalog.py``), to score categorization on unseen names."""

    def __post_init__(self) -> None:
        for name in ("customers", "months", "seed", "chunk_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValidationError(f"{name} must be an integer, got {value!r}")
        if self.customers < 1:
            raise ValidationError(f"customers must be at least 1, got {self.customers}")
        if not 1 <= self.months <= 120:
            raise ValidationError(f"months must be between 1 and 120, got {self.months}")
        if self.seed < 0:
            raise ValidationError(f"seed must be >= 0, got {self.seed}")
        if self.chunk_size < 1:
            raise ValidationError(f"chunk_size must be at least 1, got {self.chunk_size}")
        if self.customers > 99_999_999:
            raise ValidationError(f"customers must be below 100,000,000, got {self.customers}")
        if not isinstance(self.start, date) or self.start.day != 1:
            raise ValidationError(f"start must be the first day of a month, got {self.start!r}")
        if not 1990 <= self.start.year <= 2090:
            raise ValidationError(f"start must be between 1990 and 2090, got {self.start}")
        if not isinstance(self.unseen_merchants, bool):
            raise ValidationError(
                f"unseen_merchants must be true or false, got {self.unseen_merchants!r}"
            )
        self._check_weights("region_weights", self.region_weights, 3)
        if self.persona_weights is not None:
            from tactful.simulate.people.personas import PERSONAS

            self._check_weights("persona_weights", self.persona_weights, len(PERSONAS))

    @staticmethod
    def _check_weights(name: str, weights: tuple[float, ...], n: int) -> None:
        if len(weights) != n:
            raise ValidationError(f"{name} must have {n} entries, got {len(weights)}")
        if any(w < 0 for w in weights) or sum(weights) <= 0:
            raise ValidationError(f"{name} must be non-negative and not all zero, got {weights}")

    @property
    def end(self) -> date:
        """First day after the window."""
        return _add_months(self.start, self.months)

    @property
    def n_days(self) -> int:
        return (self.end - self.start).days
