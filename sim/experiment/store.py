"""The results directory of a sweep: chunk files that land atomically, resumable at any point.

Layout (docs/experiments.md):

    DIR/manifest.json            experiment, its hash, seeds, design, versions, status
    DIR/design.parquet           one row per design point: the factor values runs use
    DIR/design_raw.parquet       lhs/sobol/morris: the sampler's values before integer rounding
    DIR/chunks/chunk-00012.<sha256>.parquet   result rows of one finished chunk, named by their checksum
    DIR/series/chunk-00012.<sha256>.parquet   its downsampled daily series (if the experiment keeps them)
    DIR/runs.parquet             all rows, sorted by (point, replication); written at the end
    DIR/series.parquet           all series, likewise

A chunk file appears whole (written to a temporary name, flushed, renamed) or
not at all, and its series file is written before it, so a run counts as done
exactly when its rows are on disk. Resuming skips those runs.

Each file's name carries the SHA-256 of its bytes, and a rows file records the
checksum of its series file. Before a chunk is trusted (on resume, and again when
the final tables are merged) its bytes are hashed and its rows checked against
the experiment (columns, points, replications, seeds, statuses); a damaged chunk
is set aside as ``*.damaged`` and its runs are run again.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.run.atomic import OutputError

#: ``chunk-00012.<sha256 of the file>.parquet``; files of older versions have no checksum in the name.
_CHUNK = re.compile(r"^chunk-(\d{5,})(?:\.([0-9a-f]{64}))?\.parquet$")
#: Key of a rows file's parquet metadata holding the checksum of its series file ("" for none).
SERIES_KEY = b"community_sim.series_sha256"
STATUSES = frozenset({"ok", "failed"})
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


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a flushed temporary sibling and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(path)
    try:
        tmp.write_bytes(data)
        _fsync_replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def parquet_bytes(frame: pd.DataFrame, metadata: dict[bytes, bytes] | None = None) -> bytes:
    """``frame`` as the bytes of a parquet file, with extra key-value ``metadata`` in its schema."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if metadata:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **metadata})
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


@dataclass(frozen=True)
class Expected:
    """What a sweep's chunk rows must look like: its KPI columns, design points and replication seeds."""

    kpis: Sequence[str]
    points: int
    seeds: Sequence[int]


class DamagedChunk(Exception):
    """A chunk file whose bytes or rows are not what was written; its runs must be run again."""


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

    def __init__(self, root: Path, expected: Expected | None = None) -> None:
        self.root = Path(root)
        self.chunks = self.root / "chunks"
        self.series = self.root / "series"
        self.manifest_path = self.root / "manifest.json"
        self.expected = expected
        self._next = 0
        #: what was wrong with each chunk set aside (read by the sweep to warn)
        self.damaged: list[str] = []

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

    def check_resumable(
        self, sha256: str, source: str, clean: bool = True, differences: Callable[[dict], str] | None = None
    ) -> dict:
        """The stored manifest, if it belongs to the same experiment; a clear error otherwise.

        ``clean`` removes what an interrupted write left behind (only under the lock). ``differences(manifest)``
        says what differs from the stored experiment, for the error ("" when it cannot tell).
        """
        state = self.state()
        if state == "other" and not self.root.is_dir():
            raise OutputError(f"{self.root} is a file, not a directory; choose another --out")
        if state == "other":
            raise OutputError(f"{self.root} is not empty and holds no sweep (no manifest.json); choose another --out")
        manifest = self.read_manifest()
        if not isinstance(manifest, dict) or "experiment_sha256" not in manifest:
            raise OutputError(
                f"{self.root} holds another command's output (its manifest.json is not a sweep's: a run directory?), "
                "not a sweep; choose another --out"
            )
        for folder in (self.chunks, self.series):
            if folder.exists() and not folder.is_dir():
                raise OutputError(
                    f"{folder} is not a directory: the sweep keeps its finished chunks there; "
                    "move it away (or choose another --out)"
                )
        if manifest.get("experiment_sha256") != sha256:
            how = differences(manifest) if differences is not None else ""
            raise OutputError(
                f"{self.root} holds a different experiment ({manifest.get('name')!r} from "
                f"{manifest.get('source')}, hash {str(manifest.get('experiment_sha256'))[:12]}); {source} "
                f"(hash {sha256[:12]}) differs "
                + (how or "in its factors, design, seeds, KPIs or base scenario. Choose another --out")
                + ", or delete the directory to start over"
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

    def write_manifest_last(self, manifest: dict) -> None:
        """Record the manifest of a sweep that is stopping, as well as the disk allows, and never raise.

        On a full disk the temporary copy may not fit; the manifest is then rewritten in place
        (the old one's blocks are freed first). Failing both, the error being reported wins.
        """
        text = json.dumps(manifest, indent=2, sort_keys=False, default=str) + "\n"
        try:
            write_text_atomic(self.manifest_path, text)
        except OSError:
            with contextlib.suppress(OSError):
                self.manifest_path.write_text(text, encoding="utf-8")

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold an exclusive lock on the directory, so two sweeps never write into it at once."""
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks; the user is trusted
            yield
            return
        lock = self.root / ".lock"
        if lock.is_dir():
            raise OutputError(f"{lock} is a directory, not the sweep's lock file; remove it")
        with open(lock, "a+") as fh:
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
        done = {_number(p) for p in self._chunk_files(self.chunks)}
        for orphan in self._chunk_files(self.series):
            if _number(orphan) not in done:
                orphan.unlink(missing_ok=True)

    # --- chunks --------------------------------------------------------------------------

    @staticmethod
    def _chunk_files(folder: Path) -> list[Path]:
        files = [p for p in folder.glob("chunk-*.parquet") if _CHUNK.match(p.name)] if folder.is_dir() else []
        return sorted(files, key=_number)

    def finished(self, *, set_aside: bool = True) -> pd.DataFrame:
        """(point, replication, status) of every run in a sound finished chunk, the latest attempt of each.

        Damaged chunks are set aside (see ``verified``; not with ``set_aside=False``, which only reads), so
        their runs count as not done.
        """
        files = self._chunk_files(self.chunks)
        self._next = max(self._next, _number(files[-1]) + 1 if files else 0)
        frames = [rows[["point", "replication", "status"]] for rows, _ in self.verified(set_aside=set_aside)]
        if not frames:
            return pd.DataFrame({"point": [], "replication": [], "status": []})
        done = pd.concat(frames, ignore_index=True)
        return done.drop_duplicates(["point", "replication"], keep="last")

    def write_chunk(self, rows: pd.DataFrame, series: pd.DataFrame | None) -> Path:
        """Write one finished chunk (its series first), each file named by its checksum; return the rows file."""
        number = self._next
        self._next += 1
        series_sha = ""
        if series is not None and len(series):
            data = parquet_bytes(series)
            series_sha = hashlib.sha256(data).hexdigest()
            write_bytes_atomic(self.series / f"chunk-{number:05d}.{series_sha}.parquet", data)
        data = parquet_bytes(rows, {SERIES_KEY: series_sha.encode()})
        path = self.chunks / f"chunk-{number:05d}.{hashlib.sha256(data).hexdigest()}.parquet"
        write_bytes_atomic(path, data)
        return path

    def verified(self, *, set_aside: bool = False) -> Iterator[tuple[pd.DataFrame, pd.DataFrame | None]]:
        """(rows, series) of every sound chunk, in chunk order; damaged ones are skipped and described in
        ``damaged`` (and, with ``set_aside``, renamed ``*.damaged`` with their series, so they are run again)."""
        series_files = {_number(p): p for p in self._chunk_files(self.series)}
        for path in self._chunk_files(self.chunks):
            series_path = series_files.get(_number(path))
            try:
                rows, series = self._check_chunk(path, series_path)
            except DamagedChunk as exc:
                self.damaged.append(f"{path.relative_to(self.root)} {exc}")
                if set_aside:
                    for p in (path, series_path):
                        if p is not None:
                            with contextlib.suppress(FileNotFoundError):
                                os.replace(p, p.with_name(p.name + ".damaged"))
                continue
            yield rows, series

    def _check_chunk(self, path: Path, series_path: Path | None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        """The chunk's rows and series, if their bytes match their checksums and the rows fit the sweep."""
        table = _read_checked(path)
        stored = (table.schema.metadata or {}).get(SERIES_KEY)
        series = None
        if stored is not None:  # written with checksums: the series file must be exactly the one recorded
            want = stored.decode()
            got = _CHUNK.match(series_path.name).group(2) if series_path is not None else ""
            if want != got:
                raise DamagedChunk("does not match its series file (missing, or another one)")
        if series_path is not None:
            series = _read_checked(series_path).to_pandas()
        rows = table.to_pandas()
        if self.expected is not None:
            _check_rows(rows, self.expected)
        return rows, series

    # --- the final tables ----------------------------------------------------------------

    def read_rows(self) -> pd.DataFrame:
        """Result rows of every sound finished chunk, in chunk order (later attempts after earlier ones)."""
        frames = [rows for rows, _ in self.verified()]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def consolidate(self, design: pd.DataFrame, kpis: list[str]) -> pd.DataFrame | None:
        """Write ``runs.parquet`` (and ``series.parquet``): every finished run, sorted, with its factor values.

        Every chunk is verified again first; if one is damaged, it is set aside, nothing is written and
        None is returned (its runs must be run again).
        """
        before = len(self.damaged)
        chunks = list(self.verified(set_aside=True))
        if len(self.damaged) > before:
            return None
        frames = [rows for rows, _ in chunks]
        runs = combine(pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(), design, kpis)
        write_parquet_atomic(runs, self.root / "runs.parquet")
        series_frames = [series for _, series in chunks if series is not None]
        if series_frames:
            series = pd.concat(series_frames, ignore_index=True)
            series = series.drop_duplicates(["point", "replication", "day"], keep="last")
            series = series.sort_values(["point", "replication", "day"], kind="stable").reset_index(drop=True)
            write_parquet_atomic(series, self.root / "series.parquet")
        return runs


def _number(path: Path) -> int:
    return int(_CHUNK.match(path.name).group(1))


def _read_checked(path: Path) -> pa.Table:
    """The parquet table in ``path``, if its bytes hash to the checksum in its name (when it has one)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DamagedChunk(f"cannot be read ({exc.strerror or exc})") from None
    want = _CHUNK.match(path.name).group(2)
    if want is not None and hashlib.sha256(data).hexdigest() != want:
        raise DamagedChunk("does not match its checksum")
    try:
        return pq.read_table(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - any parse failure means the file is damaged
        raise DamagedChunk(f"is not a readable parquet file ({type(exc).__name__})") from None


def _check_rows(rows: pd.DataFrame, expected: Expected) -> None:
    """Refuse rows that cannot have been written by this sweep (a chunk of an older version has no checksum)."""
    missing = [c for c in (*ID_COLUMNS, *TAIL_COLUMNS, *expected.kpis) if c not in rows.columns]
    if missing:
        raise DamagedChunk(f"lacks the column(s) {', '.join(missing)}")
    try:
        point = rows["point"].to_numpy(dtype="int64")
        rep = rows["replication"].to_numpy(dtype="int64")
        seed = rows["seed"].to_numpy(dtype="uint64")
    except (TypeError, ValueError, OverflowError):
        raise DamagedChunk("has ids that are not integers") from None
    if len(rows) == 0 or point.min() < 0 or point.max() >= expected.points:
        raise DamagedChunk("has no rows, or a point outside the design")
    if rep.min() < 0 or rep.max() >= len(expected.seeds):
        raise DamagedChunk("has a replication outside the experiment")
    if any(int(s) != int(expected.seeds[r]) for s, r in zip(seed, rep, strict=True)):
        raise DamagedChunk("has a seed that is not its replication's")
    if not set(rows["status"]).issubset(STATUSES):
        raise DamagedChunk("has a status other than ok or failed")


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
