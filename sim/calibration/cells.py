"""Discrete-period RFM cells (``frequency, recency, periods, weights``) as a per-person panel and a log.

Cohort data are often published as cells: ``weights`` people made ``frequency`` repeat purchases in
``periods`` yearly (or other) opportunities after their first, the last in opportunity ``recency``
(0 = none), as the donations cohort of Fader, Hardie & Shang (2010) that lifetimes ships. The cells
do not say in which opportunities the other ``frequency - 1`` purchases fell. ``impute_panel`` fills
them in: the last purchase in opportunity ``recency``, the others spread uniformly at random over
opportunities ``1 .. recency - 1`` (seeded), which is the exchangeability BG/BB itself assumes. The
panel reproduces every cell exactly; its per-opportunity totals are exact only for the last
opportunity (everyone with ``recency = periods`` bought then) and in sum, the others are imputed.

``panel_log`` turns the panel into a transaction log (``customer_id,date``) with opportunity k on
``start + k * days_per_period`` days (0 = the first purchase), the input ``calibrate`` reads.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibration import CalibrationError

CELL_COLUMNS = ("frequency", "recency", "periods", "weights")


def donations_path() -> Path:
    """The donations cells lifetimes ships (``lifetimes/datasets/donations.csv``; no download)."""
    try:
        import lifetimes
    except ImportError:
        raise CalibrationError(
            "the donations cohort ships with lifetimes: pip install 'community-sim[clv]' (or pip install lifetimes)"
        ) from None
    return Path(lifetimes.__file__).parent / "datasets" / "donations.csv"


def read_cells(path: Path) -> pd.DataFrame:
    """The cells as integers; a clear error naming the file, line and column for anything else."""
    try:
        raw = pd.read_csv(path, skipinitialspace=True, dtype=str)
    except FileNotFoundError:
        raise CalibrationError(f"cells file {path} does not exist") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, IsADirectoryError) as exc:
        raise CalibrationError(f"{path}: cannot read as CSV ({str(exc).splitlines()[0]})") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [c for c in CELL_COLUMNS if c not in raw.columns]
    if missing:
        raise CalibrationError(f"{path}: missing column(s) {', '.join(missing)}; cells need {', '.join(CELL_COLUMNS)}")
    if raw.empty:
        raise CalibrationError(f"{path}: no cells")
    cells = raw[list(CELL_COLUMNS)]
    for col in CELL_COLUMNS:
        values = pd.to_numeric(cells[col], errors="coerce")
        bad = values.isna() | (values < 0) | (values != np.floor(values))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise CalibrationError(
                f"{path}:{i + 2}: column '{col}': {cells[col].iat[i]} is not a whole number from 0 up"
            )
    cells = cells.astype(np.int64)
    f, r, n = cells["frequency"], cells["recency"], cells["periods"]
    bad = (r > n) | (f > r) | ((f > 0) & (r == 0)) | ((f == 0) & (r > 0)) | (n == 0)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise CalibrationError(
            f"{path}:{i + 2}: frequency {f.iat[i]}, recency {r.iat[i]}, periods {n.iat[i]} is not a possible "
            "history (need 0 < periods, frequency <= recency <= periods, recency 0 exactly when frequency is 0)"
        )
    return cells.reset_index(drop=True)


def impute_panel(cells: pd.DataFrame, seed: int) -> np.ndarray:
    """A 0/1 array (people, periods): person i bought in opportunity k+1 when ``panel[i, k]``; one row per
    person, cells in order (each repeated ``weights`` times). Exact per cell; see the module docstring."""
    rng = np.random.default_rng(seed)
    n_max = int(cells["periods"].max())
    rows = []
    for f, r, n, w in cells[list(CELL_COLUMNS)].itertuples(index=False):
        block = np.zeros((w, n_max), dtype=np.int8)
        if f > 0:
            block[:, r - 1] = 1
            if f > 1:  # f - 1 of the opportunities 1 .. r-1, uniformly: rank random keys per person
                keys = rng.random((w, r - 1))
                chosen = np.argsort(keys, axis=1)[:, : f - 1]
                np.put_along_axis(block[:, : r - 1], chosen, 1, axis=1)
        if n < n_max:
            block[:, n:] = -1  # beyond this cell's opportunities (not observed)
        rows.append(block)
    return np.vstack(rows)


def panel_cells(panel: np.ndarray, periods: int | None = None) -> pd.DataFrame:
    """The cells a panel gives (``frequency, recency, periods, weights``), in the first ``periods`` columns."""
    part = panel[:, :periods] if periods is not None else panel
    bought = part == 1
    n = (part >= 0).sum(axis=1)
    f = bought.sum(axis=1)
    last = np.where(bought.any(axis=1), part.shape[1] - np.argmax(bought[:, ::-1], axis=1), 0)
    frame = pd.DataFrame({"frequency": f, "recency": last, "periods": n})
    return frame.groupby(list(frame.columns)).size().rename("weights").reset_index()


def panel_log(panel: np.ndarray, start: datetime.date, days_per_period: int = 1) -> pd.DataFrame:
    """Transactions ``customer_id, date``: everyone's first purchase on ``start`` (opportunity 0), then one
    row per opportunity k with a purchase, dated ``start + k * days_per_period`` days."""
    people, k = np.nonzero(panel == 1)
    ids = np.concatenate([np.arange(panel.shape[0]), people])
    opportunity = np.concatenate([np.zeros(panel.shape[0], dtype=np.int64), k + 1])
    order = np.lexsort((opportunity, ids))
    dates = pd.Timestamp(start) + pd.to_timedelta(opportunity[order] * days_per_period, unit="D")
    return pd.DataFrame({"customer_id": [f"d{i:05d}" for i in ids[order]], "date": dates.strftime("%Y-%m-%d")})
