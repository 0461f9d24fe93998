"""Addressable randomness: same keys same numbers, sane distributions."""

from __future__ import annotations

import numpy as np
import pytest

from tactful.simulate.base.rng import Keyed


def test_same_keys_same_draws_whatever_the_batch() -> None:
    r = Keyed(3)
    whole = r.uniform("x", np.arange(1000), 7)
    part = r.uniform("x", np.arange(500, 600), 7)
    assert np.array_equal(whole[500:600], part)
    assert not np.array_equal(whole, Keyed(4).uniform("x", np.arange(1000), 7))
    assert not np.array_equal(whole, r.uniform("y", np.arange(1000), 7))


def test_distributions() -> None:
    r = Keyed(1)
    k = np.arange(200_000)
    u = r.uniform("u", k)
    assert u.min() >= 0.0 and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.005
    z = r.normal("z", k)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    for lam in (0.3, 4.0, 60.0):
        p = r.poisson(f"p{lam}", lam, k)
        assert abs(p.mean() - lam) < 0.03 * lam + 0.01
        assert abs(p.var() - lam) < 0.06 * lam + 0.02
    c = r.categorical("c", np.array([0.2, 0.5, 0.3]), k)
    assert np.allclose(np.bincount(c) / len(k), [0.2, 0.5, 0.3], atol=0.005)


def test_seed_must_be_natural() -> None:
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        Keyed(-1)
