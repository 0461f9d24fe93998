"""Row orders of integer keys, fast.

``np.lexsort`` over several keys of half a million rows takes most of a second (one stable
sort per key, each gathering the previous order). Integer keys whose ranges multiply to less
than 2^62 pack into one int64 -- the most significant key first -- and one stable ``argsort``
of it gives exactly the same order, ties included, about ten times faster.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

I64 = NDArray[np.int64]
_LIMIT = 1 << 62


def lexsort(keys: Sequence[NDArray[np.integer]]) -> I64:
    """Same result as ``np.lexsort(keys)`` (the last key is the primary one) for integer keys.

    >>> lexsort((np.array([2, 1, 1]), np.array([0, 1, 0]))).tolist()
    [2, 0, 1]
    """
    arrays = [np.asarray(k, dtype=np.int64) for k in keys]
    if not arrays or len(arrays[0]) == 0:
        return np.lexsort(arrays).astype(np.int64)
    packed = np.zeros(len(arrays[0]), dtype=np.int64)
    span_product = 1
    for key in reversed(arrays):
        lo, hi = int(key.min()), int(key.max())
        span = hi - lo + 1
        span_product *= span
        if span_product >= _LIMIT:
            return np.lexsort(arrays).astype(np.int64)
        packed = packed * span + (key - lo)
    return np.argsort(packed, kind="stable").astype(np.int64)
