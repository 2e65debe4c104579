"""Array helpers of the engine: single precision, scatter-adds, branch-free selection, threshold levels.

They compute exactly what their plain numpy counterparts compute (bit for bit, tested), only faster on
the day's columns: speed choices that change no number.
"""

from __future__ import annotations

import numpy as np


def f32(x: float | np.ndarray) -> np.float32 | np.ndarray:
    """``x`` in single precision, so that arithmetic with the float32 columns stays float32 (half the bytes, a
    third of the time); probabilities and state need no more than float32's 7 digits, money is kept in float64."""
    return np.asarray(x, dtype=np.float32) if isinstance(x, np.ndarray) else np.float32(x)


def add_at(column: np.ndarray, people: np.ndarray, amount: float | np.ndarray) -> None:
    """``column[people] += amount``, counting a person listed twice twice.

    ``ufunc.at`` takes numpy's fast path only when the amount has the column's own dtype (a Python float
    or a float64 array into a float32 column takes the generic path, ~10x slower).
    """
    np.add.at(column, people, np.asarray(amount, dtype=column.dtype))


_UINT = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def select(cond: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``np.where(cond, x, y)`` for two arrays of one dtype, bit for bit, by bit masks.

    ``np.where``, ``np.copyto(where=)`` and ufuncs' ``where=`` take a branch per element:
    on a mask with no pattern (who checked in yesterday, who holds a coupon, who is a
    member) they mispredict often and cost up to ~5 ns an element; the branch-free passes
    of ``put_where`` cost a fraction of that.
    """
    if x.dtype != y.dtype or x.shape != y.shape:
        raise TypeError("select needs two arrays of one dtype and shape")
    out = y.copy()
    put_where(out, cond, x)
    return out


def put_where(out: np.ndarray, cond: np.ndarray, values: np.ndarray) -> None:
    """``np.copyto(out, values, where=cond)`` in place, bit for bit, without a branch per element (see ``select``)."""
    if not np.can_cast(values.dtype, out.dtype, "same_kind"):
        raise TypeError(f"cannot put {values.dtype} values into a {out.dtype} array")
    if cond.dtype != bool:
        raise TypeError("put_where needs a boolean mask")
    u = _UINT[out.dtype.itemsize]
    keep = cond.astype(u)
    np.negative(keep, out=keep)  # all ones where cond holds
    mine = out.view(u)
    diff = np.bitwise_xor(mine, values.astype(out.dtype, copy=False).view(u))
    diff &= keep
    mine ^= diff


def levels(values: np.ndarray, thresholds) -> np.ndarray:
    """How many of the ascending ``thresholds`` each value reaches (int8), as ``searchsorted(side="right")``.

    One comparison pass per threshold: for the handful of tier or badge thresholds, several times faster
    than a binary search per value. Thresholds are compared in float64, whatever the values' dtype.
    """
    thresholds = np.asarray(thresholds, dtype=np.float64)
    if thresholds.size > 8:  # many thresholds: the binary search wins
        return np.searchsorted(thresholds, values, side="right").astype(np.int8)
    out = np.zeros(values.shape, dtype=np.int8)
    for t in thresholds:
        out += values >= t
    return out
