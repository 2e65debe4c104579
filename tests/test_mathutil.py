"""Numeric helpers: each is an exact stand-in for the plain numpy expression it speeds up."""

from __future__ import annotations

import numpy as np
import pytest

from sim.core.mathutil import logistic
from sim.engine.arrays import levels, put_where, select


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int8, np.int16, np.int32])
def test_select_is_np_where_bit_for_bit(dtype):
    rng = np.random.default_rng(4)
    x = (rng.standard_normal(10_001) * 50).astype(dtype)
    y = (rng.standard_normal(10_001) * 50).astype(dtype)
    if np.issubdtype(dtype, np.floating):
        x[:4] = [np.inf, -np.inf, np.nan, -0.0]  # special values pass through untouched
    cond = rng.random(10_001) < 0.5
    out = select(cond, x, y)
    assert out.dtype == dtype
    assert np.array_equal(out.view(np.uint8), np.where(cond, x, y).view(np.uint8))


def test_levels_is_searchsorted_right():
    values = np.array([-1.0, 0.0, 0.5, 1.0, 2.0, 9.0], dtype=np.float32)
    thresholds = [0.0, 1.0, 2.0]
    assert levels(values, thresholds).tolist() == np.searchsorted(thresholds, values, side="right").tolist()


def test_logistic_stays_in_the_unit_interval():
    p = logistic(np.array([-1e4, -20.0, 0.0, 20.0, 1e4], dtype=np.float32))
    assert p[2] == 0.5 and np.all((p >= 0) & (p <= 1)) and p[0] == 0.0 and p[-1] == 1.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int8, np.int16, np.int32])
def test_put_where_is_copyto_where_bit_for_bit(dtype):
    rng = np.random.default_rng(5)
    out = (rng.standard_normal(5_001) * 50).astype(dtype)
    values = (rng.standard_normal(5_001) * 50).astype(dtype)
    cond = rng.random(5_001) < 0.7
    expected = out.copy()
    np.copyto(expected, values, where=cond)
    put_where(out, cond, values)
    assert np.array_equal(out.view(np.uint8), expected.view(np.uint8))


def test_put_where_refuses_a_lossy_cast():
    with pytest.raises(TypeError, match="float64 values into a int8"):
        put_where(np.zeros(3, dtype=np.int8), np.ones(3, dtype=bool), np.ones(3))


def test_normal_quantile_is_the_standard_library_inverse_cdf_and_close_to_scipy():
    """Every argument the purchase phase can pass (and the far tails): the standard library's value, bit for bit,
    whether computed element by element (short arrays) or by numpy; within a few ulp of scipy's ``ndtri``."""
    from statistics import NormalDist

    from scipy.special import ndtri

    from sim.core.mathutil import SCALAR_UP_TO, normal_quantile

    grid = np.arange(2**21, dtype=np.float64) / 2**21 + 2.0**-22
    tails = np.array([1e-300, 1e-100, 1e-20, 1e-11, 1e-9, 0.0246, 0.075, 0.925, 1 - 1e-9, 1 - 2.0**-53])
    inv_cdf = NormalDist().inv_cdf
    for p in (grid, np.repeat(tails, SCALAR_UP_TO // 4), tails):
        z = normal_quantile(p)
        np.testing.assert_array_equal(z, [inv_cdf(x) for x in p.tolist()])
        np.testing.assert_allclose(z, ndtri(p), rtol=4e-15, atol=4e-15)
    z = normal_quantile(grid)
    assert np.all(np.diff(z) > 0)  # increasing, so order statistics keep their order
    np.testing.assert_array_equal(z, -z[::-1])  # symmetric about the median


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32, np.int64])
def test_log1p_counts_is_log1p_of_float32_bit_for_bit(dtype):
    from sim.engine import arrays

    rng = np.random.default_rng(5)
    top = min(np.iinfo(dtype).max, 5_000)  # beyond the first table: it grows
    k = rng.integers(0, top, 20_001).astype(dtype)
    for counts in (k, k[::3], k[:1], k[:0]):
        got = arrays.log1p_counts(counts)
        assert got.dtype == np.float32
        assert np.array_equal(got.view(np.uint32), np.log1p(counts.astype(np.float32)).view(np.uint32))


def test_log1p_counts_computes_what_the_table_does_not_hold():
    from sim.engine.arrays import LOG1P_TABLE_MAX, log1p_counts

    big = np.array([0, 7, LOG1P_TABLE_MAX + 3, 2**31 - 1], dtype=np.int64)
    assert np.array_equal(log1p_counts(big), np.log1p(big.astype(np.float32)))
    with np.errstate(divide="ignore", invalid="ignore"):
        negative = np.array([3, -1, -5], dtype=np.int32)  # read as huge unsigned numbers: computed, not looked up
        assert np.array_equal(log1p_counts(negative), np.log1p(negative.astype(np.float32)), equal_nan=True)


def test_first_flag_is_the_masked_writes_in_reverse_order():
    from sim.engine.arrays import code_counts, first_flag

    rng = np.random.default_rng(6)
    flags = [rng.random(10_001) < p for p in (0.1, 0.5, 0.3, 0.9)]
    want = np.full(10_001, len(flags), dtype=np.int8)
    for i in reversed(range(len(flags))):  # the plain way: later writes are the earlier rules
        want[flags[i]] = i
    got = first_flag(flags, 10_001)
    assert got.dtype == np.int8 and np.array_equal(got, want)
    assert code_counts(got, len(flags) + 1) == np.bincount(want, minlength=len(flags) + 1).tolist()
    assert first_flag([], 3).tolist() == [0, 0, 0]
