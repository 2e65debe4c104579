"""Run a resolved experiment into its results directory: plan, resume, execute, consolidate.

The directory is the sweep's state: rerunning the same experiment into it skips
every run already in a finished chunk, so a crash, a SIGKILL or Ctrl-C loses at
most the chunks that were running.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import pandas as pd

from sim.batch.executors import make_executor
from sim.compare.loading import flat
from sim.experiment.resolve import Resolved
from sim.experiment.runs import run_chunk
from sim.experiment.store import Expected, SweepStore
from sim.run.atomic import OutputError
from sim.run.runner import git_commit, versions

#: Most runs in one chunk by default: small enough that an interruption loses little.
MAX_CHUNK = 25
#: Times the runs of chunks found damaged when the table is merged are run again before giving up.
MAX_ATTEMPTS = 3


@dataclass
class SweepOutcome:
    """What a sweep did and where its table is."""

    out: Path
    runs: pd.DataFrame
    total: int
    skipped: int  # runs found done in the directory
    ran: int  # runs executed now
    seconds: float
    warnings: list[str] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return int((self.runs["status"] == "failed").sum()) if len(self.runs) else 0


def default_chunk_size(runs: int, workers: int) -> int:
    """About four chunks per worker (for balance), at most ``MAX_CHUNK`` runs each (for resumability)."""
    return max(1, min(MAX_CHUNK, math.ceil(runs / (4 * max(1, workers)))))


def run_sweep(
    resolved: Resolved,
    out: Path,
    *,
    executor: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    chunk_size: int | None = None,
    resume: bool = False,
    retry_failed: bool = False,
    on_start: Callable[[int, int, int], None] | None = None,
    on_chunk: Callable[[int, int], None] | None = None,
    chunk_timeout: float | None = None,
) -> SweepOutcome:
    """Run every run of ``resolved`` not already in ``out``; return the consolidated table.

    ``resume=True`` insists that ``out`` already holds this sweep. ``on_start(total,
    done, failed)`` and ``on_chunk(runs, failed)`` drive a progress display. A chunk
    running longer than ``chunk_timeout`` seconds is run again on a fresh worker
    (local executor). Damaged chunks are set aside and their runs run again, with a warning.
    """
    start = time.perf_counter()
    store = SweepStore(out, Expected(resolved.kpis, len(resolved.design), resolved.seeds))
    state = preflight(resolved, out, resume=resume)
    warnings: list[str] = []
    with writing(out), store.locked():
        if state == "new":
            manifest = new_manifest(resolved)
            store.create(manifest, resolved.design, resolved.raw)
        else:
            manifest = store.check_resumable(resolved.sha256, resolved.source, differences=differences(resolved))
            commit = git_commit()
            if manifest.get("git_commit") != commit:
                warnings.append(
                    f"the sweep was started at commit {manifest.get('git_commit')} and resumes at {commit}: "
                    "if the model changed, its runs are not comparable"
                )
        session = {"started_utc": _now(), "executor": executor, "runs": 0}
        manifest["status"] = "running"
        manifest.setdefault("sessions", []).append(session)
        skipped = ran = 0
        try:
            store.write_manifest(manifest)
            for attempt in range(MAX_ATTEMPTS):
                done = store.finished()
                if retry_failed:
                    done = done[done["status"] == "ok"]
                skip = set(zip(done["point"].astype(int), done["replication"].astype(int), strict=True))
                tasks = resolved.tasks(skip)
                if attempt == 0:
                    skipped = len(skip)
                    if on_start is not None:
                        on_start(resolved.n_runs, len(skip), int((done["status"] == "failed").sum()))
                ran += len(tasks)
                session["runs"] = ran
                if tasks:
                    with make_executor(executor, workers, scheduler, chunk_timeout=chunk_timeout) as ex:
                        session["workers"] = ex.workers
                        size = chunk_size or default_chunk_size(len(tasks), ex.workers)
                        chunks = [tasks[i : i + size] for i in range(0, len(tasks), size)]
                        for _, (rows, series) in ex.map(run_chunk, resolved.plan(), chunks):
                            store.write_chunk(rows, series)
                            if on_chunk is not None:
                                on_chunk(len(rows), int((rows["status"] == "failed").sum()))
                        warnings.extend(getattr(ex, "warnings", ()))
                runs = store.consolidate(resolved.design, resolved.kpis)
                if runs is not None:
                    break
            else:
                raise OutputError(
                    f"chunks in {out / 'chunks'} were damaged again after being run again {MAX_ATTEMPTS} times; "
                    "check the disk, then rerun to resume"
                )
        except BaseException:
            manifest["status"] = "interrupted"
            session["finished_utc"] = _now()
            store.write_manifest_last(manifest)
            raise
        finally:
            warnings[:0] = [f"{d}: set aside as .damaged; its runs were run again" for d in store.damaged]
        ok = int((runs["status"] == "ok").sum())
        session.update(finished_utc=_now(), seconds=round(time.perf_counter() - start, 3))
        manifest.update(
            status="complete" if len(runs) == resolved.n_runs else "incomplete",
            runs_ok=ok,
            runs_failed=len(runs) - ok,
            finished_utc=session["finished_utc"],
        )
        store.write_manifest(manifest)
    return SweepOutcome(out, runs, resolved.n_runs, skipped, ran, time.perf_counter() - start, warnings)


@contextlib.contextmanager
def writing(out: Path) -> Iterator[None]:
    """Report a failed write in ``out`` (disk full, read-only, a file in the way) as a clear ``OutputError``."""
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or str(exc)
        where = f" ({exc.filename})" if exc.filename else ""
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            hint = "free some space and rerun the same command to resume (finished chunks are kept)"
        elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            hint = "choose a directory you can write to with --out (or --results)"
        elif exc.errno in (errno.ENOTDIR, errno.EEXIST):
            hint = "a file is in the way: check the path, or choose another --out"
        else:
            hint = "check the path, or choose another --out"
        raise OutputError(f"cannot write the sweep directory {out}: {reason}{where}; {hint}") from None


def preflight(resolved: Resolved, out: Path, *, resume: bool = False) -> str:
    """Check before any work that ``out`` can take this sweep: "new", or "sweep" (the same one, to resume)."""
    with writing(out):
        return _usable(SweepStore(out), resolved, resume)


def _usable(store: SweepStore, resolved: Resolved, resume: bool) -> str:
    """``preflight``'s checks, which only read: "new" or "sweep", or the ``OutputError`` the sweep would stop with."""
    state = store.state()
    if state == "new" and resume:
        raise OutputError(f"nothing to resume: {store.root} holds no sweep; run without --resume to start one")
    if state != "new":
        store.check_resumable(resolved.sha256, resolved.source, clean=False, differences=differences(resolved))
    return state


def differences(resolved: Resolved) -> Callable[[dict], str]:
    """What tells ``resolved`` from the experiment a sweep directory's manifest records: the settings whose values
    differ (a few), each naming the --set that gave it or the file, then what to do (the refusal's second half)."""

    def describe(manifest: dict) -> str:
        stored = manifest.get("experiment")
        if not isinstance(stored, dict):  # a manifest without it: the generic reason
            return ""
        now, then = flat(resolved.experiment.model_dump(mode="json")), flat(stored)
        found = [
            (key, now.get(key), then.get(key))
            for key in dict.fromkeys([*now, *then])
            if now.get(key) != then.get(key) and key not in ("name", "description")
        ]
        if not found:
            if json.loads(json.dumps(resolved.bases, default=str)) != manifest.get("bases"):
                return (
                    "in its base scenario (a file it reads has changed since the sweep started). Choose another --out"
                )
            return ""
        parts, set_by = [], []
        for key, new, old in found[:3]:
            given = next((o for o in resolved.overrides if _sets(o, key)), None)
            set_by += [given] if given else []
            where = f"with --set {given}" if given else f"in {resolved.source}"
            parts.append(f"{key} is {_shown(new)} {where} and {_shown(old)} in the directory")
        more = f" (and {len(found) - 3} more settings)" if len(found) > 3 else ""
        todo = "Drop or change that --set to resume it, choose another --out" if set_by else "Choose another --out"
        return f"in its settings: {'; '.join(parts)}{more}. {todo}"

    return describe


def _sets(override: str, key: str) -> bool:
    """Whether the ``key=value`` override sets ``key`` or a key around it (``design=...`` sets ``design.n``)."""
    name = override.partition("=")[0].strip()
    return key == name or key.startswith(f"{name}.")


def _shown(value: object) -> str:
    """A setting's value as written: plain for a number or text, JSON for a list or mapping, "not set" for none."""
    if value is None:
        return "not set"
    return value if isinstance(value, str) else json.dumps(value, default=str)


def results_plan(resolved: Resolved, out: Path, *, resume: bool = False) -> str:
    """What a sweep would do with ``out`` (``--dry-run``), writing nothing: start it, or resume it with how many
    runs done; an ``OutputError`` if the sweep would be refused there."""
    store = SweepStore(out)
    try:
        state = _usable(store, resolved, resume)
    except OSError as exc:  # unreadable: the sweep would stop there too
        raise OutputError(f"cannot read the sweep directory {out}: {exc.strerror or exc}") from None
    if state == "new":
        return f"{out} (new)"
    done = store.finished(set_aside=False)
    failed = int((done["status"] == "failed").sum())
    return (
        f"{out} (holds this sweep: {len(done)} of {resolved.n_runs} runs done"
        + (f", {failed} of them failed (--retry-failed runs them again)" if failed else "")
        + "; the rest would run)"
    )


def new_manifest(r: Resolved) -> dict:
    """The manifest of a fresh sweep: enough to read, analyse and replay every run."""
    from sim.experiment.design import problem

    exp = r.experiment
    factors = []
    for f in r.factors:
        factors.append(
            {
                "name": f.name,
                "kind": f.kind,
                "levels": list(f.levels) if f.levels is not None else None,
                "range": list(f.range) if f.range is not None else None,
                "steps": f.steps,
                "renormalize": exp.factors[f.name].renormalize,
            }
        )
    sampled = r.raw is not None
    return {
        "name": exp.name,
        "description": exp.description,
        "source": r.source,
        "experiment_sha256": r.sha256,
        "experiment": exp.model_dump(mode="json"),
        "factors": factors,
        "design": {
            "kind": exp.design.kind,
            "n": exp.design.n,
            "second_order": exp.design.second_order,
            "num_levels": exp.design.num_levels,
            "seed": r.design_seed,
            "points": len(r.design),
            "problem": problem(r.factors) if sampled else None,
        },
        "replications": exp.replications,
        "master_seed": exp.seed,
        "seeds": r.seeds,
        "kpis": r.kpis,
        "series": exp.series.model_dump(mode="json") if exp.series else None,
        "runs_total": r.n_runs,
        "status": "new",
        "created_utc": _now(),
        "versions": _versions(),
        "git_commit": git_commit(),
        "bases": r.bases,
    }


def _versions() -> dict[str, str]:
    out = versions()
    for pkg in ("salib", "distributed"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
