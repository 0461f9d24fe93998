"""The packed-key sort gives np.lexsort's order exactly, ties and fallbacks included."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tactful.simulate.base.order import lexsort

_KEY = st.integers(1, 300).flatmap(
    lambda n: st.lists(
        arrays(np.int64, n, elements=st.integers(-1_000, 100_000)), min_size=1, max_size=4
    )
)


@given(_KEY)
def test_same_order_as_numpy(keys: list[np.ndarray]) -> None:
    assert np.array_equal(lexsort(keys), np.lexsort(keys))


def test_keys_too_wide_to_pack_fall_back_to_numpy() -> None:
    rng = np.random.default_rng(0)
    keys = [rng.integers(0, 2**40, 500), rng.integers(0, 2**40, 500)]
    assert np.array_equal(lexsort(keys), np.lexsort(keys))


def test_empty() -> None:
    assert lexsort([np.array([], dtype=np.int64)]).tolist() == []
