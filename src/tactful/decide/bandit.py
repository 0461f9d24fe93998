"""P(engage) from a Thompson-sampling bandit, with the chosen item's probability known exactly.

Each arm -- an action on a channel, optionally within a customer segment -- has a Beta posterior
over its engagement rate: the catalog's prior plus the engagements and non-engagements logged
against it. Thompson sampling draws one rate per arm and picks the best expected value.

The logged ``pscore`` must be the probability with which the policy chose what it chose, or no
off-policy estimate is possible. An exact selection probability of Thompson sampling has no
closed form (it is an integral over every arm's posterior), so the policy is defined over a
*fixed pool* of ``draws`` posterior samples per arm (seeded by the arm and its posterior, so
independent across arms and reproducible): a decision picks one row of the pool uniformly at
random and takes that row's best item. The probability of an item is then exactly the share of
rows it wins -- computed over all rows, not estimated. The pool is a Monte Carlo stand-in for
the posterior (1,000 rows: each item's probability is a multiple of 1/1,000, so the smallest
non-zero pscore is 0.001); the probability logged is the true one of the policy that ran.

Arms that may not explore (regulated credit offers) use the posterior mean in every row.

>>> pool = DrawPool(draws=1000, seed=0)
>>> rates = pool.rates("spending_spike|push", 2.0, 18.0)
>>> rates.shape, 0.0 < float(rates.mean()) < 0.2
((1000,), True)
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tactful.errors import ConfigError

Floats = npt.NDArray[np.float64]


def arm_key(action_id: str, channel: str, segment: str | None = None) -> str:
    """The name of an arm: an action on a channel, within a segment when arms are per segment."""
    return f"{action_id}|{channel}" + (f"|{segment}" if segment else "")


def _seed(*parts: object) -> int:
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "little")


class DrawPool:
    """The fixed pools of posterior draws, cached by arm and posterior (a batch decides for
    many customers over the same arms, so each pool is drawn once)."""

    def __init__(self, draws: int = 1000, seed: int = 0, max_pools: int = 50_000) -> None:
        if isinstance(draws, bool) or not isinstance(draws, int) or draws < 1:
            raise ConfigError(f"draws must be an integer >= 1; got {draws!r}")
        self.draws = draws
        self.seed = seed
        self.max_pools = max_pools
        self._pools: dict[tuple[str, float, float], Floats] = {}

    def rates(self, arm: str, alpha: float, beta: float) -> Floats:
        """``draws`` samples of the arm's engagement rate from Beta(alpha, beta)."""
        key = (arm, alpha, beta)
        pool = self._pools.get(key)
        if pool is None:
            if alpha <= 0 or beta <= 0:
                raise ConfigError(f"arm {arm}: Beta({alpha}, {beta}) needs positive parameters")
            if len(self._pools) >= self.max_pools:
                self._pools.clear()
            rng = np.random.default_rng(_seed(self.seed, arm, alpha, beta))
            pool = rng.beta(alpha, beta, size=self.draws)
            pool.flags.writeable = False
            self._pools[key] = pool
        return pool


@dataclass(frozen=True, slots=True)
class Choice:
    index: int
    """Which column won the chosen row (the last column is silence when one is given)."""
    pscore: float
    """The exact probability the policy gave that column."""
    shares: Floats
    """Every column's probability (they sum to 1)."""
    row: int


def choose(
    pool: DrawPool,
    arms: Sequence[tuple[str, float, float, bool]],
    weights: Floats,
    *,
    floor: float | None,
    row_seed: int,
) -> Choice:
    """Thompson sampling over ``arms`` (name, alpha, beta, explores) whose expected value is
    rate x ``weights``; with ``floor``, one more column worth exactly ``floor`` (silence).

    The row is ``row_seed`` modulo the pool size, so replaying the same seed replays the
    same choice."""
    n = len(arms)
    columns = n + (floor is not None)
    if columns == 0:
        raise ConfigError("choose needs at least one arm or a floor")
    values = np.empty((pool.draws, columns))
    for k, (arm, alpha, beta, explores) in enumerate(arms):
        if explores:
            values[:, k] = pool.rates(arm, alpha, beta)
        else:
            values[:, k] = alpha / (alpha + beta)
    if n:
        values[:, :n] *= weights
    if floor is not None:
        values[:, n] = floor
    winners = values.argmax(axis=1)
    shares = np.bincount(winners, minlength=columns) / pool.draws
    row = row_seed % pool.draws
    index = int(winners[row])
    return Choice(index, float(shares[index]), shares, row)
