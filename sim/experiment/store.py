"""The results directory of a sweep: chunk files that land atomically, resumable at any point.

Layout (docs/experiments.md):

    DIR/manifest.json            experiment, its hash, seeds, design, versions, status
    DIR/design.parquet           one row per design point: the factor values runs use
    DIR/design_raw.parquet       lhs/sobol/morris: the sampler's values before integer rounding
    DIR/chunks/chunk-00012.parquet   result rows of one finished chunk
    DIR/series/chunk-00012.parquet   its downsampled daily series (if the experiment keeps them)
    DIR/runs.parquet             all rows, sorted by (point, replication); written at the end
    DIR/series.parquet           all series, likewise

A chunk file appears whole (written to a temporary name, flushed, renamed) or
not at all, and its series file is written before it, so a run counts as done
exactly when its rows are on disk. Resuming skips those runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from sim.atomic import OutputError

_CHUNK = re.compile(r"^chunk-(\d{5,})\.parquet$")
ID_COLUMNS = ("point", "replication", "seed")
TAIL_COLUMNS = ("status", "error", "wall_seconds")


def _temporary(path: Path) -> Path:
    """A unique hidden sibling of ``path`` (created with the usual permissions, unlike mkstemp's 0600)."""
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.partial")


def write_parquet_atomic(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` through a flushed temporary sibling and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(path)
    try:
        frame.to_parquet(tmp, index=False)
        _fsync_replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """Write a text file through a flushed temporary sibling and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(path)
    try:
        tmp.write_text(text, encoding="utf-8")
        _fsync_replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _fsync_replace(tmp: Path, path: Path) -> None:
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class SweepStore:
    """One sweep's directory; ``open`` starts it or checks it can be resumed."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.chunks = self.root / "chunks"
        self.series = self.root / "series"
        self.manifest_path = self.root / "manifest.json"
        self._next = 0

    # --- starting and resuming ---------------------------------------------------------

    def state(self) -> str:
        """ "new" (absent or empty), "sweep" (has a manifest) or "other" (something else is there)."""
        if not self.root.exists() or (self.root.is_dir() and not any(self.root.iterdir())):
            return "new"
        return "sweep" if self.manifest_path.is_file() else "other"

    def create(self, manifest: dict, design: pd.DataFrame, raw: pd.DataFrame | None) -> None:
        """Lay out a fresh sweep directory."""
        self.chunks.mkdir(parents=True, exist_ok=True)
        write_parquet_atomic(design.reset_index(), self.root / "design.parquet")
        if raw is not None:
            write_parquet_atomic(raw.reset_index(), self.root / "design_raw.parquet")
        self.write_manifest(manifest)

    def check_resumable(self, sha256: str, source: str, clean: bool = True) -> dict:
        """The stored manifest, if it belongs to the same experiment; a clear error otherwise.

        ``clean`` removes what an interrupted write left behind (only under the lock).
        """
        state = self.state()
        if state == "other":
            raise OutputError(f"{self.root} is not empty and holds no sweep (no manifest.json); choose another --out")
        manifest = self.read_manifest()
        if manifest.get("experiment_sha256") != sha256:
            raise OutputError(
                f"{self.root} holds a different experiment ({manifest.get('name')!r} from "
                f"{manifest.get('source')}, hash {str(manifest.get('experiment_sha256'))[:12]}); {source} "
                f"(hash {sha256[:12]}) differs in its factors, design, seeds, KPIs or base scenario. "
                "Choose another --out, or delete the directory to start over"
            )
        if clean:
            self._clean_partials()
        return manifest

    def read_manifest(self) -> dict:
        try:
            return json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise OutputError(f"cannot read {self.manifest_path}: {exc}") from None

    def write_manifest(self, manifest: dict) -> None:
        write_text_atomic(self.manifest_path, json.dumps(manifest, indent=2, sort_keys=False, default=str) + "\n")

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold an exclusive lock on the directory, so two sweeps never write into it at once."""
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks; the user is trusted
            yield
            return
        with open(self.root / ".lock", "a+") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                message = f"another sweep is writing to {self.root}; wait for it or choose another --out"
                raise OutputError(message) from None
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def _clean_partials(self) -> None:
        """Remove temporaries of an interrupted write and series files whose chunk never landed."""
        for folder in (self.root, self.chunks, self.series):
            for tmp in folder.glob(".*.partial") if folder.is_dir() else ():
                tmp.unlink(missing_ok=True)
        done = {p.name for p in self._chunk_files(self.chunks)}
        for orphan in self._chunk_files(self.series):
            if orphan.name not in done:
                orphan.unlink(missing_ok=True)

    # --- chunks --------------------------------------------------------------------------

    @staticmethod
    def _chunk_files(folder: Path) -> list[Path]:
        files = [p for p in folder.glob("chunk-*.parquet") if _CHUNK.match(p.name)] if folder.is_dir() else []
        return sorted(files, key=lambda p: int(_CHUNK.match(p.name).group(1)))

    def finished(self) -> pd.DataFrame:
        """(point, replication, status) of every run in a finished chunk, the latest attempt of each."""
        files = self._chunk_files(self.chunks)
        self._next = int(_CHUNK.match(files[-1].name).group(1)) + 1 if files else 0
        frames = [self._read(p, ["point", "replication", "status"]) for p in files]
        if not frames:
            return pd.DataFrame({"point": [], "replication": [], "status": []})
        done = pd.concat(frames, ignore_index=True)
        return done.drop_duplicates(["point", "replication"], keep="last")

    def write_chunk(self, rows: pd.DataFrame, series: pd.DataFrame | None) -> Path:
        """Write one finished chunk (its series first); return the rows file."""
        name = f"chunk-{self._next:05d}.parquet"
        self._next += 1
        if series is not None and len(series):
            write_parquet_atomic(series, self.series / name)
        write_parquet_atomic(rows, self.chunks / name)
        return self.chunks / name

    @staticmethod
    def _read(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
        try:
            return pd.read_parquet(path, columns=columns)
        except Exception as exc:  # noqa: BLE001 - name the file a user can delete
            raise OutputError(f"cannot read {path} ({exc}); delete it and rerun to redo its runs") from None

    # --- the final tables ----------------------------------------------------------------

    def read_rows(self) -> pd.DataFrame:
        """Result rows of every finished chunk, in chunk order (later attempts after earlier ones)."""
        files = self._chunk_files(self.chunks)
        return pd.concat([self._read(p) for p in files], ignore_index=True) if files else pd.DataFrame()

    def consolidate(self, design: pd.DataFrame, kpis: list[str]) -> pd.DataFrame:
        """Write ``runs.parquet`` (and ``series.parquet``): every finished run, sorted, with its factor values."""
        runs = combine(self.read_rows(), design, kpis)
        write_parquet_atomic(runs, self.root / "runs.parquet")
        series_files = self._chunk_files(self.series)
        if series_files:
            series = pd.concat([self._read(p) for p in series_files], ignore_index=True)
            series = series.drop_duplicates(["point", "replication", "day"], keep="last")
            series = series.sort_values(["point", "replication", "day"], kind="stable").reset_index(drop=True)
            write_parquet_atomic(series, self.root / "series.parquet")
        return runs


def combine(rows: pd.DataFrame, design: pd.DataFrame, kpis: list[str]) -> pd.DataFrame:
    """Result rows joined with their design point's factor values, in a fixed column order and dtypes."""
    factor_cols = list(design.columns)
    columns = [*ID_COLUMNS, *factor_cols, *kpis, *TAIL_COLUMNS]
    if rows.empty:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
    rows = rows.drop_duplicates(["point", "replication"], keep="last")
    runs = rows.merge(design.reset_index(), on="point", how="left", validate="many_to_one")
    runs = runs.sort_values(["point", "replication"], kind="stable").reset_index(drop=True)
    for col in ID_COLUMNS:
        runs[col] = runs[col].astype("int64")
    for col in kpis:
        runs[col] = runs[col].astype("float64")
    runs["wall_seconds"] = runs["wall_seconds"].astype("float64")
    for col in ("status", "error"):
        runs[col] = pd.Series([None if pd.isna(v) else str(v) for v in runs[col]], dtype=object)
    return runs[columns]
