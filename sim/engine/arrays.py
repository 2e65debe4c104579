"""Array helpers of the engine: single precision, scatter-adds, branch-free selection, threshold levels,
first rules and logarithms of counts.

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


#: ``np.log1p`` of the float32 integers 0, 1, 2, ..., grown on demand by ``log1p_counts``.
_LOG1P = np.log1p(np.arange(1024, dtype=np.float32))
#: Counts up to this size are looked up; larger ones (or a negative one) are computed.
LOG1P_TABLE_MAX = 1 << 20


def log1p_counts(k: np.ndarray) -> np.ndarray:
    """``np.log1p(k.astype(np.float32))`` for an integer array ``k`` (counts, days), the same float32 bits.

    The values are looked up in a table that is that very function of 0, 1, 2, ...: integers convert to
    float32 one way and numpy computes each element on its own, so the look-up gives what computing would,
    at a fraction of the cost (float32 ``log1p`` is a scalar library call per element).
    """
    table = _LOG1P  # one reference: another thread may replace the table meanwhile
    top = int(k.view(k.dtype.str.replace("i", "u")).max(initial=0))  # a negative count reads as a huge one
    if top >= table.size:
        if top >= LOG1P_TABLE_MAX:
            return np.log1p(k.astype(np.float32))
        table = _grow_log1p(top)
    return table.take(k)


def _grow_log1p(top: int) -> np.ndarray:
    """The table up to at least ``top``, installed for the next calls."""
    global _LOG1P
    size = 1 << top.bit_length()
    table = np.log1p(np.arange(size, dtype=np.float32))
    _LOG1P = table
    return table


def first_flag(flags: list[np.ndarray], size: int) -> np.ndarray:
    """For each element, the position in ``flags`` (boolean arrays of ``size``) of the first one set there,
    ``len(flags)`` where none is: int8 codes of the first rule that applies, for a list of rules in order.

    In arithmetic, the least over the flags of (its position if set, none otherwise): writing codes through
    boolean masks branches on every element and costs several times more.
    """
    none = len(flags)
    code = np.full(size, none, dtype=np.int8)
    term = np.empty_like(code)
    for i, flag in enumerate(flags):
        np.multiply(flag.view(np.int8), np.int8(i - none), out=term)
        term += np.int8(none)
        np.minimum(code, term, out=code)
    return code


def code_counts(code: np.ndarray, n: int) -> list[int]:
    """How many of the int8 ``code`` are 0, 1, ..., ``n - 1`` (``np.bincount`` widens every code to 8 bytes)."""
    return [int(np.count_nonzero(code == i)) for i in range(n)]


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
