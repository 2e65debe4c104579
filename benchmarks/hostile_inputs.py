"""Adversarial pass over the community-sim command line: hostile inputs and faults.

Runs a catalogue of hostile inputs and faults against the ``community-sim`` command line
(through ``python -m sim`` in a subprocess, using the code of this checkout), each case in a
fresh temporary working directory with a planted fake ``HOME``, and classifies the outcome:

  clean_error     exit 2 (130/143 for interruption cases), an ``error:`` line (or the CLI
                  library's usage box), no traceback
  handled         exit 0 and the case's own check of the result passed
  traceback       "Traceback" in the output, or exit 1
  data_lost       a file that existed before the command (planted user files, a finished
                  sweep, the scenarios) was changed or removed
  wrote_outside   something was created or changed outside the case's allowed places
                  (its results dir / --out path; the system temp dir is not watched), in
                  the working directory or in the fake HOME (which holds a warm matplotlib
                  cache unless --cold-home; the env.home_fresh* cases always start empty)
  hung            exceeded its timeout (the process group is killed), or processes of the
                  case were still alive after it ended (they are killed and listed)
  silently_wrong  exit 0 but the case's check of the result failed
  other           any other ending: another exit code (3, killed by a signal), exit 2
                  without an error line, an error message lacking what the case requires
  harness_error   the case itself failed inside this script (a bug here, not in the tool)

A case is "clean" when its outcome is one of the outcomes its ``expected`` column names.
The script measures and never judges: it always exits 0.

Usage (from the repository root, with the project installed, e.g. ``pip install -e ".[dev]"``):

    python benchmarks/hostile_inputs.py --json out.json        # the whole catalogue
    python benchmarks/hostile_inputs.py --list                 # ids and descriptions
    python benchmarks/hostile_inputs.py --only calibrate.obs   # cases whose id contains it
    python benchmarks/hostile_inputs.py --keep                 # keep the temporary dirs

Sizes are tiny (a 300 to 1,000 person market, a few days) and every case has a timeout, so
the full pass takes a few minutes on two cores. Linux only (it reads /proc to find the
processes a case left behind).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "scenarios"
OUTCOMES = (
    "clean_error",
    "handled",
    "traceback",
    "data_lost",
    "wrote_outside",
    "hung",
    "silently_wrong",
    "other",
    "harness_error",
)
CE, H = "clean_error", "handled"
DEFAULT_TIMEOUT = 60.0

TINY = """\
extends: scenarios/smoke.yaml
name: tiny
days: 5
market:
  size: 300
"""

# The medium experiment: 4 points x 2 replications, one run per chunk (8 chunks), so a
# sweep lasts long enough to be interrupted between chunks.
MEDIUM_EXP = {
    "name": "medium",
    "scenario": "scenarios/smoke.yaml",
    "set": {"days": 60, "market.size": 600},  # long enough that a signal after the first chunk lands mid-sweep
    "factors": {"referral.reward_inviter": [0, 10, 20, 40]},
    "design": "grid",
    "replications": 2,
    "seed": 7,
}
MEDIUM_RUNS = 8

TINY_SUITE = """\
replications: 2
cases:
  - id: T1
    claim: a tiny check
    scenario: smoke
    metric: referral_conversion
    target: 0.25
    tolerance: 1.0
    provenance: input
    provenance_note: referral.base_acceptance is the target
"""

OBS_OK = "day,purchases\n" + "".join(f"{d},{3 + d % 3}\n" for d in range(7))
CAL_ARGS = ["--fit", "purchase.base_prob=0.01:0.08", "--trials", "1", "--replications", "1", "-q"]


# --- running the tool ----------------------------------------------------------------------


@dataclass
class Res:
    rc: int | None
    out: str
    err: str
    secs: float
    timed_out: bool = False

    @property
    def text(self) -> str:
        return self.out + "\n" + self.err


class FixtureError(Exception):
    """A shared fixture could not be built: the cases that need it are harness errors."""


def token_pids(token: str) -> list[int]:
    """Pids of live processes whose environment carries ``token`` (the processes of a case)."""
    found = []
    me = os.getpid()
    needle = f"HOSTILE_CASE_TOKEN={token}".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                env = fh.read()
            with open(f"/proc/{entry}/stat", "rb") as fh:
                st = fh.read()
        except OSError:
            continue
        if needle in env.split(b"\0"):
            state = st.rsplit(b")", 1)[-1].split()[0:1]
            if state != [b"Z"]:
                found.append(int(entry))
    return found


def parent_pid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return int(fh.read().rsplit(b")", 1)[-1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def worker_pids(token: str, main_pid: int) -> list[int]:
    """The pool's workers: processes of the case whose parent is another helper (the forkserver).

    The command's direct children (the forkserver, the resource tracker) are left alone."""
    pids = set(token_pids(token))
    return [p for p in pids if p != main_pid and parent_pid(p) in pids - {main_pid}]


def kill_pids(pids: list[int]) -> None:
    for pid in pids:
        for sig in (signal.SIGCONT, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except OSError:
                pass


def proc_cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")[:120]
    except OSError:
        return "?"


class Ctx:
    """One case's world: a fresh working dir with the scenarios, a fake HOME, its allowances."""

    def __init__(self, root: Path, fixtures: Fixtures | None, warm_home: Path | None = None):
        self.root = root
        self.work = root / "work"
        self.home = root / "home"
        self.logs = root / "logs"
        for d in (self.work, self.home, self.logs):
            d.mkdir(parents=True)
        shutil.copytree(SCENARIOS, self.work / "scenarios", symlinks=True)
        (self.work / "tiny.yaml").write_text(TINY)
        if warm_home is not None:
            shutil.copytree(warm_home, self.home, symlinks=True, dirs_exist_ok=True)
        (self.home / ".profile").write_text("# planted fake HOME\n")
        self.token = uuid.uuid4().hex
        self.allowed: list[Path] = []
        self.mutable: list[Path] = []
        self.verdict: tuple[str, str] | None = None
        self.notes: list[str] = []
        self.fx = fixtures
        self.nlog = 0
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "MPLCONFIGDIR"))}
        self.env.update(
            HOME=str(self.home),
            HOSTILE_CASE_TOKEN=self.token,
            PYTHONPATH=os.pathsep.join([str(REPO)] + [p for p in [os.environ.get("PYTHONPATH")] if p]),
            COLUMNS="200",
            NO_COLOR="1",
            TERM="dumb",
            PYTHONDONTWRITEBYTECODE="1",
        )

    # paths
    def p(self, rel: str | Path) -> Path:
        return self.work / rel

    def allow(self, *rels: str | Path) -> None:
        self.allowed += [self.work / r if not Path(r).is_absolute() else Path(r) for r in rels]

    def may_change(self, *rels: str | Path) -> None:
        self.mutable += [self.work / r if not Path(r).is_absolute() else Path(r) for r in rels]

    def write(self, rel: str, data: str | bytes) -> Path:
        path = self.p(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
        return path

    def fail(self, outcome: str, note: str) -> None:
        self.verdict = (outcome, note)

    # processes
    def start(self, args: list[str], *, env: dict | None = None, stdout=None, preexec=None, umask=None):
        self.nlog += 1
        out_path = self.logs / f"{self.nlog}.out"
        err_path = self.logs / f"{self.nlog}.err"
        fout = stdout if stdout is not None else open(out_path, "wb")
        ferr = open(err_path, "wb")

        def pre():
            if umask is not None:
                os.umask(umask)
            if preexec is not None:
                preexec()

        proc = subprocess.Popen(
            [sys.executable, "-m", "sim", *[str(a) for a in args]],
            cwd=self.work,
            env={**self.env, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=fout,
            stderr=ferr,
            start_new_session=True,
            preexec_fn=pre,
        )
        proc._hostile = (out_path, err_path, fout, ferr, time.monotonic(), stdout is None)  # type: ignore[attr-defined]
        return proc

    def finish(self, proc, timeout: float) -> Res:
        out_path, err_path, fout, ferr, t0, own_out = proc._hostile
        timed_out = False
        try:
            proc.wait(timeout=max(0.1, timeout - (time.monotonic() - t0)))
        except subprocess.TimeoutExpired:
            timed_out = True
            for sig in (signal.SIGCONT, signal.SIGKILL):
                try:
                    os.killpg(proc.pid, sig)
                except OSError:
                    pass
            proc.wait()
        secs = time.monotonic() - t0
        if own_out:
            fout.close()
        ferr.close()
        out = out_path.read_text(errors="replace") if own_out and out_path.exists() else ""
        err = err_path.read_text(errors="replace")
        return Res(proc.returncode, out, err, secs, timed_out)

    def cli(self, *args, timeout: float = DEFAULT_TIMEOUT, **kw) -> Res:
        return self.finish(self.start(list(args), **kw), timeout)


# --- shared fixtures (built once, copied into the cases) ----------------------------------


class Fixtures:
    def __init__(self, root: Path):
        self.root = root
        self.built: dict[str, Path | Exception] = {}

    def _build(self, name: str, make: Callable[[Ctx], Path]) -> Path:
        if name not in self.built:
            try:
                ctx = Ctx(self.root / name, None)
                self.built[name] = make(ctx)
            except Exception as exc:  # noqa: BLE001
                self.built[name] = exc
        got = self.built[name]
        if isinstance(got, Exception):
            raise FixtureError(f"fixture {name} could not be built: {got}")
        return got

    def run(self, which: str = "a") -> Path:
        extra = {
            "a": [],
            "b": ["--set", "referral.reward_inviter=20"],
            "c": ["--days", "4"],
        }[which]

        def make(ctx: Ctx) -> Path:
            r = ctx.cli("run", "tiny.yaml", "--seed", "1", "--out", "run", "-q", *extra, timeout=120)
            if r.rc != 0 or not (ctx.p("run") / "events.parquet").exists():
                raise RuntimeError(f"run exited {r.rc}: {r.err[-300:]}")
            return ctx.p("run")

        return self._build(f"run_{which}", make)

    def sweep(self) -> Path:
        def make(ctx: Ctx) -> Path:
            ctx.write("medium.yaml", json.dumps(MEDIUM_EXP))
            r = ctx.cli(
                "sweep", "medium.yaml", "--out", "sweep", "--workers", "1", "--chunk-size", "1", "-q", timeout=180
            )
            if r.rc != 0 or not (ctx.p("sweep") / "runs.parquet").exists():
                raise RuntimeError(f"sweep exited {r.rc}: {r.err[-300:]}")
            return ctx.p("sweep")

        return self._build("sweep", make)

    def warm_home(self) -> Path | None:
        """A HOME holding what a first run leaves there (matplotlib's font cache and config dir).

        Planted in every case's fake HOME (unless --cold-home), so that the one known write
        into HOME (matplotlib building its font cache at import) is measured once, by the
        env.home_* cases, instead of masking every other case's outcome. Changes to these
        planted files still count as wrote_outside."""
        try:
            run = self.run("a")
        except FixtureError:
            return None
        home = run.parent.parent / "home"
        return home if any(home.iterdir()) else None

    def place_run(self, ctx: Ctx, rel: str, which: str = "a") -> Path:
        dst = ctx.p(rel)
        shutil.copytree(self.run(which), dst, symlinks=True)
        return dst

    def place_sweep(self, ctx: Ctx, rel: str = "sweep") -> Path:
        dst = ctx.p(rel)
        shutil.copytree(self.sweep(), dst, symlinks=True)
        ctx.write("medium.yaml", json.dumps(MEDIUM_EXP))
        return dst


# --- snapshots -------------------------------------------------------------------------------


def snapshot(root: Path) -> dict[str, tuple]:
    snap: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISLNK(st.st_mode):
                snap[path] = ("link", os.readlink(path))
            elif stat.S_ISDIR(st.st_mode):
                snap[path] = ("dir",)
            elif stat.S_ISREG(st.st_mode):
                if st.st_size <= 32 << 20:
                    h = hashlib.sha1()
                    try:
                        with open(path, "rb") as fh:
                            for block in iter(lambda: fh.read(1 << 20), b""):
                                h.update(block)
                        snap[path] = ("file", st.st_size, h.hexdigest())
                    except OSError:
                        snap[path] = ("file", st.st_size, st.st_mtime_ns)
                else:
                    snap[path] = ("file", st.st_size, st.st_mtime_ns)
            else:
                snap[path] = ("special",)
    return snap


def under(path: str, roots: list[Path]) -> bool:
    p = Path(path)
    return any(p == r or r in p.parents for r in roots)


def diff_snapshots(ctx: Ctx, before: dict, after: dict) -> tuple[list[str], list[str]]:
    lost, outside = [], []
    home = str(ctx.home)
    for path, info in before.items():
        now = after.get(path)
        if now == info:
            continue
        if path.startswith(home + os.sep):
            outside.append(f"changed {path[len(str(ctx.root)) + 1 :]}")
            continue
        if under(path, ctx.mutable):
            continue
        if now is None or now[0] != info[0] or info[0] in ("file", "link"):
            lost.append(("removed " if now is None else "changed ") + path[len(str(ctx.work)) + 1 :])
    for path in after.keys() - before.keys():
        if path.startswith(home + os.sep):
            outside.append(path[len(str(ctx.root)) + 1 :])
        elif not under(path, ctx.allowed) and not under(path, ctx.mutable):
            outside.append(path[len(str(ctx.root)) + 1 :])
    roots = sorted(set(outside))
    outside = [p for p in roots if not any(p.startswith(q + os.sep) for q in roots if q != p)]
    return lost, outside


def has_error_line(err: str) -> bool:
    lines = [ln.strip() for ln in err.splitlines()]
    if any(ln.startswith("error:") for ln in lines):
        return True
    return "Usage:" in err and "Error" in err  # the CLI library's usage box


# --- the catalogue ---------------------------------------------------------------------------


Check = Callable[[Ctx, Res], tuple[bool, str]]


@dataclass
class Case:
    id: str
    desc: str
    expected: str  # what a correct tool does, in words
    expect: tuple[str, ...]  # the outcomes that count as clean
    fn: Callable[[Ctx], Res]
    check: Check | None = None  # judges an exit-0 result
    timeout: float = DEFAULT_TIMEOUT
    interrupt: bool = False
    want: str | None = None  # a word the error message must contain
    cold_home: bool = False  # start from an empty fake HOME even without --cold-home


CASES: list[Case] = []


def case(id, desc, expected, expect=(CE,), check=None, timeout=DEFAULT_TIMEOUT, interrupt=False, want=None):
    def deco(fn):
        CASES.append(Case(id, desc, expected, tuple(expect), fn, check, timeout, interrupt, want))
        return fn

    return deco


def add(id, desc, expected, fn, expect=(CE,), check=None, timeout=DEFAULT_TIMEOUT, want=None):
    CASES.append(Case(id, desc, expected, tuple(expect), fn, check, timeout, False, want))


def exists_check(*rels: str) -> Check:
    def check(ctx: Ctx, res: Res) -> tuple[bool, str]:
        missing = [r for r in rels if not ctx.p(r).exists()]
        return (not missing, f"missing {missing}" if missing else "")

    return check


def accepted(ctx: Ctx, res: Res) -> tuple[bool, str]:
    return False, "accepted input that should be refused (exit 0)"


def run_dirs(root: Path) -> list[Path]:
    """Finished run directories (holding summary.json) under root."""
    return sorted(p.parent for p in root.rglob("summary.json")) if root.exists() else []


def partials(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.partial")) if root.exists() else []


def read_parquet(path: Path):
    import pandas as pd

    return pd.read_parquet(path)


def same_runs(a: Path, b: Path) -> tuple[bool, str]:
    """runs.parquet of two sweeps agree (except wall_seconds)."""
    x, y = read_parquet(a), read_parquet(b)
    if list(x.columns) != list(y.columns):
        return False, f"columns differ: {sorted(set(x.columns) ^ set(y.columns))[:6]}"
    drop = [c for c in ("wall_seconds",) if c in x.columns]
    x = x.drop(columns=drop).sort_values(["point", "replication"]).reset_index(drop=True)
    y = y.drop(columns=drop).sort_values(["point", "replication"]).reset_index(drop=True)
    if len(x) != len(y):
        return False, f"{len(x)} rows, expected {len(y)}"
    if not x.equals(y):
        return False, "runs.parquet differs from an undisturbed sweep"
    return True, ""


# ---- A. reading the scenario file ----------------------------------------------------------


def bad_file_case(id, desc, content, want=None, expected="clean_error naming the file", expect=(CE,), check=None):
    def fn(ctx: Ctx) -> Res:
        ctx.write("bad.yaml", content)
        ctx.allow("r")
        return ctx.cli("run", "bad.yaml", "--out", "r", "-q")

    add(
        id,
        desc,
        expected,
        fn,
        expect,
        check or (accepted if H not in expect else exists_check("r/summary.json")),
        want=want,
    )


VALID = TINY.replace("scenarios/smoke.yaml", "scenarios/smoke.yaml")
bad_file_case("file.empty", "empty scenario file", b"", "bad.yaml")
bad_file_case("file.comments_only", "only comments", "# nothing\n# here\n", "bad.yaml")
bad_file_case("file.doc_marker_only", "only '---'", "---\n", "bad.yaml")
bad_file_case("file.null_doc", "only '~'", "~\n", "bad.yaml")
bad_file_case("file.top_list", "top level is a list", "- days: 3\n- seed: 1\n", "bad.yaml:1")
bad_file_case("file.top_scalar", "top level is a scalar", "42\n", "bad.yaml")
bad_file_case("file.utf16", "UTF-16 encoded", VALID.encode("utf-16"), "bad.yaml")
bad_file_case(
    "file.latin1", "Latin-1 byte in a description", (VALID + "description: caf\xe9\n").encode("latin-1"), "UTF-8"
)
bad_file_case("file.gbk", "GBK-encoded Chinese description", (VALID + "description: 社群\n").encode("gbk"), "UTF-8")
bad_file_case("file.nul", "NUL byte inside", VALID.encode() + b"\x00\n", "bad.yaml")
bad_file_case("file.bel", "BEL control character", "days: 3\x07\n", "bad.yaml")
bad_file_case("file.tab_indent", "tab indentation", "market:\n\tsize: 300\n", "bad.yaml:2")
bad_file_case("file.unclosed_flow", "unclosed [", "days: [1, 2\n", "bad.yaml")
bad_file_case("file.unclosed_quote", "unclosed quote", 'name: "tiny\ndays: 3\n', "bad.yaml")
bad_file_case("file.two_docs", "two YAML documents", VALID + "---\ndays: 4\n", "bad.yaml")
bad_file_case("file.dup_key", "duplicate key", VALID + "days: 6\n", "duplicate")
bad_file_case("file.complex_key", "a list as a key", "? [a, b]\n: 1\n", "bad.yaml")
bad_file_case(
    "file.python_tag",
    "!!python/object/apply tag",
    "days: !!python/object/apply:os.system ['echo pwned > pwned']\n",
    "tag",
)
bad_file_case("file.binary_tag", "!!binary tag", "name: !!binary aGVsbG8=\n", "tag")
bad_file_case(
    "file.billion_laughs",
    "alias bomb",
    'a: &a ["x","x","x","x","x","x","x","x","x","x"]\n'
    + "".join(
        f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
        for p, c in zip("abcdefg", "bcdefgh", strict=True)
    ),
    "bad.yaml",
)
bad_file_case("file.recursive_alias", "recursive alias", "a: &a [1, *a]\n", "bad.yaml")
bad_file_case("file.deep_nesting", "200 levels of nesting", "a: " + "[" * 200 + "]" * 200 + "\n", "bad.yaml")
bad_file_case("file.huge", "a 300 KB file", VALID + "description: " + "x" * 300_000 + "\n", "bad.yaml")
bad_file_case("file.bad_date", "start_date 2026-02-30", VALID + "start_date: 2026-02-30\n", "start_date")
bad_file_case("file.name_slash", "scenario name with a slash", VALID.replace("name: tiny", "name: a/b"), "name")
bad_file_case("file.name_300", "300-character scenario name", VALID.replace("name: tiny", "name: " + "n" * 300), "name")
bad_file_case("file.name_unicode", "non-ASCII scenario name", VALID.replace("name: tiny", "name: 社群"), "name")
bad_file_case("file.unknown_top", "unknown top-level key", VALID + "sise: 3\n", "sise")
bad_file_case("file.unknown_nested", "typo in a nested key", VALID + "referral: {reward_invter: 3}\n", "reward_inviter")
bad_file_case(
    "file.wrong_section", "key in the wrong section", VALID + "acquisition: {reward_inviter: 3}\n", "referral"
)
bad_file_case(
    "file.bom",
    "UTF-8 BOM before a valid scenario",
    "\ufeff" + VALID,
    expected="handled: a BOM is fine, the run is written",
    expect=(H,),
)
bad_file_case(
    "file.crlf",
    "CRLF line endings",
    VALID.replace("\n", "\r\n"),
    expected="handled: the run is written",
    expect=(H,),
)
bad_file_case(
    "file.cr_only",
    "old-Mac CR-only line endings",
    VALID.replace("\n", "\r"),
    expected="clean_error or handled",
    expect=(CE, H),
)
bad_file_case(
    "file.crisis_on_day_400", "event outside the run", VALID + "events:\n  - {kind: crisis, day: 400}\n", "events"
)
bad_file_case(
    "file.event_day_and_date",
    "event with day and date",
    VALID + "events:\n  - {kind: crisis, day: 1, date: 2026-01-02}\n",
    "event",
)
bad_file_case(
    "file.start_date_int",
    "start_date: 5 with an event by date (documented gap)",
    VALID + "start_date: 5\nevents:\n  - {kind: crisis, date: 2026-01-02}\n",
    "start_date",
)
bad_file_case(
    "file.start_date_time",
    "start_date with a time of day and an event by date (documented gap)",
    VALID + "start_date: 2026-01-01T10:00:00\nevents:\n  - {kind: crisis, date: 2026-01-02}\n",
    "start_date",
)


def scen_path_case(id, desc, setup, want=None, expect=(CE,)):
    def fn(ctx: Ctx) -> Res:
        target = setup(ctx)
        ctx.allow("r")
        return ctx.cli("run", target, "--out", "r", "-q", timeout=30)

    add(id, desc, "clean_error naming the path, without blocking", fn, expect, accepted, timeout=30, want=want)


scen_path_case("path.missing", "scenario file does not exist", lambda c: "nope.yaml", "nope.yaml")
scen_path_case("path.directory", "scenario is a directory", lambda c: "scenarios", "directory")
scen_path_case("path.dev_zero", "scenario is /dev/zero", lambda c: "/dev/zero", "regular")
scen_path_case(
    "path.fifo",
    "scenario is a named pipe nobody writes",
    lambda c: (os.mkfifo(c.p("pipe.yaml")), "pipe.yaml")[1],
    "regular",
)
scen_path_case(
    "path.symlink_loop",
    "scenario is a symlink to itself",
    lambda c: (os.symlink("loop.yaml", c.p("loop.yaml")), "loop.yaml")[1],
)
scen_path_case(
    "path.dangling", "scenario is a dangling symlink", lambda c: (os.symlink("gone.yaml", c.p("d.yaml")), "d.yaml")[1]
)


def extends_case(id, desc, files: dict[str, str], links: dict[str, str] | None = None, want=None):
    def fn(ctx: Ctx) -> Res:
        for name, text in files.items():
            ctx.write(name, text)
        for name, target in (links or {}).items():
            os.symlink(target, ctx.p(name))
        ctx.allow("r")
        return ctx.cli("run", "bad.yaml", "--out", "r", "-q", timeout=30)

    add(id, desc, "clean_error naming extends:", fn, (CE,), accepted, timeout=30, want=want)


extends_case("extends.self", "extends itself", {"bad.yaml": "extends: bad.yaml\ndays: 3\n"}, want="extends")
extends_case(
    "extends.cycle2",
    "a extends b extends a",
    {"bad.yaml": "extends: b.yaml\n", "b.yaml": "extends: bad.yaml\n"},
    want="extends",
)
extends_case(
    "extends.symlink_loop",
    "extends: a symlink loop",
    {"bad.yaml": "extends: loop.yaml\n"},
    {"loop.yaml": "loop.yaml"},
    want="extends",
)
extends_case(
    "extends.symlink_cycle",
    "extends: a symlink to the file itself",
    {"bad.yaml": "extends: me.yaml\ndays: 3\n"},
    {"me.yaml": "bad.yaml"},
    want="extends",
)
extends_case("extends.missing", "extends: a missing file", {"bad.yaml": "extends: nope.yaml\n"}, want="nope.yaml")
extends_case("extends.number", "extends: 5", {"bad.yaml": "extends: 5\n"}, want="extends")
extends_case("extends.dir", "extends: a directory", {"bad.yaml": "extends: scenarios\n"}, want="extends")
extends_case("extends.dev_zero", "extends: /dev/zero", {"bad.yaml": "extends: /dev/zero\n"}, want="extends")
extends_case("extends.list", "extends: a list", {"bad.yaml": "extends: [a.yaml, b.yaml]\n"}, want="extends")

# ---- B. key x bad value (--set and in a file) ----------------------------------------------

SET_KEYS = [
    "days",
    "market.size",
    "acquisition.paid.daily_budget",
    "referral.reward_inviter",
    "market.segments[0].basket_mean",
]
SET_VALUES = {
    "word": "abc",
    "bool": "true",
    "list": "[1, 2]",
    "map": "{a: 1}",
    "nan": ".nan",
    "inf": ".inf",
    "1e309": "1e309",
    "neg": "-1e30",
}
for key in SET_KEYS:
    for vname, value in SET_VALUES.items():

        def fn(ctx: Ctx, key=key, value=value) -> Res:
            ctx.allow("r")
            return ctx.cli("run", "tiny.yaml", "--set", f"{key}={value}", "--out", "r", "-q", timeout=30)

        add(
            f"set.{key}.{vname}",
            f"--set {key}={value}",
            "clean_error naming --set and the key",
            fn,
            (CE,),
            accepted,
            30,
            want=key.split(".")[-1].split("[")[0],
        )

FILE_VALUES = {"nan": ".nan", "inf": "-.inf", "huge_int": "99999999999999999999999999", "neg": "-5", "float": "3.5"}
for key, top in (("days", "days: {v}\n"), ("referral.reward_inviter", "referral:\n  reward_inviter: {v}\n")):
    for vname, value in FILE_VALUES.items():
        if vname == "float" and key != "days":
            continue

        def fn(ctx: Ctx, top=top, value=value) -> Res:
            ctx.write("bad.yaml", "extends: tiny.yaml\n" + top.format(v=value))
            ctx.allow("r")
            return ctx.cli("run", "bad.yaml", "--out", "r", "-q", timeout=30)

        line = 2 if key == "days" else 3
        add(
            f"value.{key}.{vname}",
            f"{key}: {value} in a file",
            f"clean_error with bad.yaml:{line}",
            fn,
            (CE,),
            accepted,
            30,
            want=f"bad.yaml:{line}",
        )


bad_file_case(
    "value.days.quoted_number",
    "days: '12' (a string holding a number)",
    "extends: tiny.yaml\ndays: '12'\n",
    "days",
    expected="clean_error (a string where an integer is needed), or handled as 12 days",
    expect=(CE, H),
)


def set_case(id, desc, args, want=None, expected="clean_error", expect=(CE,), check=None, timeout=30):
    def fn(ctx: Ctx) -> Res:
        ctx.allow("r", "results")
        return ctx.cli("run", "tiny.yaml", *args, "--out", "r", "-q", timeout=timeout)

    add(
        id,
        desc,
        expected,
        fn,
        expect,
        check or (accepted if H not in expect else exists_check("r/summary.json")),
        timeout,
        want,
    )


set_case("set.mix_promotional_2", "--set content.mix.promotional=2", ["--set", "content.mix.promotional=2"], "mix")
set_case("set.no_equals", "--set days", ["--set", "days"], "--set")
set_case("set.unknown_key", "--set market.sise=1", ["--set", "market.sise=1"], "size")
set_case("set.index_out_of_range", "--set market.segments[9].share=1", ["--set", "market.segments[9].share=1"], "9")
set_case(
    "set.negative_index", "--set market.segments[-1].share=1", ["--set", "market.segments[-1].share=1"], "segments"
)
set_case("set.path_into_scalar", "--set days.x=1", ["--set", "days.x=1"], "days")
set_case(
    "set.deep_value",
    "--set days with 5,000 nested brackets (documented gap)",
    ["--set", "days=" + "[" * 5000 + "]" * 5000],
    "days",
)
set_case(
    "set.python_tag",
    "--set with a python tag",
    ["--set", "days=!!python/object/apply:os.system ['touch pwned']"],
    "days",
)
set_case("set.empty_key", "--set =3", ["--set", "=3"], "--set")
set_case("set.seed_huge", "--set seed=2**64", ["--set", "seed=18446744073709551616"], "seed")
set_case("opt.seed_huge", "--seed 2**64", ["--seed", "18446744073709551616"], None)
set_case("opt.days_0", "--days 0", ["--days", "0"], None)
set_case("opt.days_huge", "--days 10**12", ["--days", "1000000000000"], None)
set_case("opt.seed_negative", "--seed -1", ["--seed", "-1"], None)
set_case(
    "set.market_size_50M",
    "--set market.size=50000000 under a 3 GB address-space limit",
    ["--set", "market.size=50000000", "--days", "3"],
    None,
    expected="clean_error (too big for the memory) or handled within 90 s; never a traceback or a hang",
    expect=(CE, H),
    timeout=90,
)


def _limit_as(nbytes: int):
    def pre():
        resource.setrlimit(resource.RLIMIT_AS, (nbytes, nbytes))

    return pre


# patch the 50M case to run under an address-space limit
def _run_50m(ctx: Ctx) -> Res:
    ctx.allow("r", "results")
    return ctx.cli(
        "run",
        "tiny.yaml",
        "--set",
        "market.size=50000000",
        "--set",
        "acquisition.initial_members=200",
        "--days",
        "3",
        "--out",
        "r",
        "-q",
        timeout=90,
        preexec=_limit_as(3 << 30),
    )


CASES[-1].fn = _run_50m


# ---- C. experiment files (sweep) -------------------------------------------------------------


def exp_case(
    id, desc, exp: dict | str, want=None, extra=(), expect=(CE,), check=None, timeout=30, expected=None, limit=None
):
    def fn(ctx: Ctx) -> Res:
        ctx.write("exp.yaml", exp if isinstance(exp, str) else json.dumps(exp))
        ctx.allow("sw", "results")
        kw = {"preexec": _limit_as(limit)} if limit else {}
        return ctx.cli("sweep", "exp.yaml", "--out", "sw", "--workers", "1", "-q", *extra, timeout=timeout, **kw)

    add(id, desc, expected or "clean_error naming the experiment key", fn, expect, check or accepted, timeout, want)


def X(**changes) -> dict:
    exp = json.loads(json.dumps(MEDIUM_EXP))
    exp["set"] = {"days": 3, "market.size": 300}
    exp["factors"] = {"referral.reward_inviter": [0, 10]}
    exp["replications"] = 1
    for k, v in changes.items():
        if v is None:
            exp.pop(k, None)
        else:
            exp[k] = v
    return exp


exp_case("exp.empty", "empty experiment file", "", "exp.yaml")
exp_case("exp.top_list", "experiment is a list", "[1, 2]\n", "exp.yaml")
exp_case("exp.no_scenario", "no scenario key", X(scenario=None), "scenario")
exp_case("exp.scenario_missing", "scenario file missing", X(scenario="nope.yaml"), "nope.yaml")
exp_case("exp.scenario_dir", "scenario is a directory", X(scenario="scenarios"), "scenarios")
exp_case("exp.factor_dotdot", "factor path ../../x", X(factors={"../../x": [1, 2]}), "malformed")
exp_case("exp.factor_unknown", "unknown factor key", X(factors={"referral.reward_invter": [1, 2]}), "reward_inviter")
exp_case(
    "exp.factor_empty_levels",
    "factor with no levels",
    X(factors={"referral.reward_inviter": []}),
    "referral.reward_inviter",
)
exp_case(
    "exp.factor_string_levels",
    "factor levels of the wrong type",
    X(factors={"referral.reward_inviter": ["a", "b"]}),
    "reward_inviter",
)
exp_case(
    "exp.factor_nan_level",
    "factor level NaN",
    "name: x\nscenario: scenarios/smoke.yaml\nset: {days: 3, market.size: 300}\n"
    "factors: {referral.reward_inviter: [0, .nan]}\nreplications: 1\nseed: 1\n",
    "reward_inviter",
)
exp_case(
    "exp.factor_out_of_range",
    "factor level out of the key's range",
    X(factors={"referral.reward_inviter": [0, -10]}),
    "reward_inviter",
)
exp_case(
    "exp.factor_range_reversed",
    "range low > high",
    X(design={"kind": "lhs", "n": 4}, factors={"referral.reward_inviter": {"range": [10, 0]}}),
    "range",
)
exp_case(
    "exp.factor_steps_0",
    "range with steps: 0",
    X(factors={"referral.reward_inviter": {"range": [0, 10], "steps": 0}}),
    "steps",
)
exp_case(
    "exp.factor_inf_range",
    "range with 1e309",
    "name: x\nscenario: scenarios/smoke.yaml\nset: {days: 3, market.size: 300}\n"
    "factors: {referral.reward_inviter: {range: [0, 1e309]}}\ndesign: {kind: lhs, n: 4}\nreplications: 1\nseed: 1\n",
    "reward_inviter",
)
exp_case("exp.design_unknown", "design: foo", X(design="foo"), "design")
exp_case(
    "exp.lhs_n_0",
    "lhs n: 0",
    X(design={"kind": "lhs", "n": 0}, factors={"referral.reward_inviter": {"range": [0, 10]}}),
    "n",
)
exp_case(
    "exp.lhs_n_negative",
    "lhs n: -5",
    X(design={"kind": "lhs", "n": -5}, factors={"referral.reward_inviter": {"range": [0, 10]}}),
    "n",
)
exp_case(
    "exp.sobol_n_10",
    "sobol n: 10 (not a power of two)",
    X(design={"kind": "sobol", "n": 10}, factors={"referral.reward_inviter": {"range": [0, 10]}}),
    "power of two",
)
exp_case("exp.replications_0", "replications: 0", X(replications=0), "replications")
exp_case("exp.replications_word", "replications: many", X(replications="many"), "replications")
exp_case(
    "exp.replications_huge",
    "replications: 10**12 (dry run)",
    X(replications=10**12),
    "replications",
    extra=("--dry-run",),
    expect=(CE, H),
    expected="clean_error, or a quick dry run",
)
exp_case("exp.seed_negative", "seed: -1", X(seed=-1), "seed")
exp_case("exp.seed_1e30", "seed: 1e30", X(seed=1e30), "seed")
exp_case("exp.kpis_unknown", "kpis: [gmvv]", X(kpis=["gmvv"]), "gmvv")
exp_case("exp.series_every_0", "series every: 0", X(series={"every": 0, "kpis": ["members"]}), "every")
exp_case("exp.unknown_key", "unknown top-level key", X(factorz={}), "factorz")
exp_case("exp.name_300", "300-character experiment name", X(name="e" * 300), "name")
exp_case("exp.set_bad_value", "set: days: abc", X(set={"days": "abc"}), "days")
exp_case("exp.set_unknown_key", "set: market.sise", X(set={"market.sise": 3}), "sise")
exp_case(
    "exp.both_spellings_same_set",
    "set: days twice via two spellings",
    "name: x\nscenario: scenarios/smoke.yaml\nset: {days: 3, market.size: 300, market: {size: 400}}\n"
    "factors: {referral.reward_inviter: [0]}\nreplications: 1\nseed: 1\n",
    "market",
    expect=(CE,),
)
exp_case("exp.cli_set_bad", "sweep --set replications=abc", X(), "replications", extra=("--set", "replications=abc"))
exp_case(
    "exp.cli_deep_set",
    "sweep --set with 5,000 nested brackets (documented gap)",
    X(),
    None,
    extra=("--set", "set.days=" + "[" * 5000 + "]" * 5000),
)
exp_case("exp.executor_bad", "--executor nope", X(), "executor", extra=("--executor", "nope"))
exp_case(
    "exp.scheduler_without_dask",
    "--scheduler without --executor dask",
    X(),
    "scheduler",
    extra=("--scheduler", "tcp://127.0.0.1:1"),
)
exp_case(
    "exp.scheduler_not_url",
    "--executor dask --scheduler 'not a url'",
    X(),
    "scheduler",
    extra=("--executor", "dask", "--scheduler", "not a url"),
    expected="clean_error (exit 2): not an address",
)
exp_case(
    "exp.dry_run_huge_grid",
    "--dry-run of 3 factors x 10,000 steps (1e12 points) under a 2 GB limit",
    X(
        factors={
            k: {"range": [0, 10], "steps": 10000}
            for k in ("referral.reward_inviter", "referral.reward_invitee", "acquisition.paid.cac")
        }
    ),
    None,
    extra=("--dry-run",),
    expected="clean_error (design too large) within seconds and the memory bound",
    limit=3 << 29,
)
exp_case(
    "exp.lhs_10M",
    "lhs n: 10,000,000 under a 2 GB limit",
    X(design={"kind": "lhs", "n": 10_000_000}, factors={"referral.reward_inviter": {"range": [0, 10]}}),
    None,
    expected="clean_error (design too large) or a bounded, quick refusal; not a hang or MemoryError traceback",
    limit=3 << 29,
)
exp_case(
    "exp.lhs_10M_dry",
    "lhs n: 10,000,000 --dry-run under a 2 GB limit",
    X(design={"kind": "lhs", "n": 10_000_000}, factors={"referral.reward_inviter": {"range": [0, 10]}}),
    None,
    extra=("--dry-run",),
    expect=(CE, H),
    check=lambda c, r: (True, ""),
    expected="clean_error or a quick dry run under the bound",
    limit=3 << 29,
)


@case(
    "exp.name_dotdot",
    "experiment named '..' without --out",
    "clean_error: '..' cannot be a directory under results/sweeps",
)
def _exp_dotdot(ctx: Ctx) -> Res:
    ctx.write("exp.yaml", json.dumps(X(name="..")))
    ctx.allow("results/sweeps/x")  # nothing legitimately lands anywhere for this name
    return ctx.cli("sweep", "exp.yaml", "--workers", "1", "-q", timeout=45)


CASES[-1].check = accepted


@case(
    "exp.name_dot", "experiment named '.' without --out", "clean_error: '.' cannot be a directory under results/sweeps"
)
def _exp_dot(ctx: Ctx) -> Res:
    ctx.write("exp.yaml", json.dumps(X(name=".")))
    ctx.allow("results/sweeps/x")
    return ctx.cli("sweep", "exp.yaml", "--workers", "1", "-q", timeout=45)


CASES[-1].check = accepted


def _two_spellings_check(ctx: Ctx, res: Res) -> tuple[bool, str]:
    runs = read_parquet(ctx.p("sw/runs.parquet"))
    cols = [c for c in runs.columns if "basket_mean" in c]
    col = next((c for c in cols if runs[c].nunique() == 2), None)
    if col is None:
        return False, f"factor columns {cols} do not hold the two levels 10 and 100000"
    g = runs.groupby(col)["final.gmv"].mean()
    lo, hi = g.get(10.0, float("nan")), g.get(100000.0, float("nan"))
    if not (lo > 0):
        return False, f"inconclusive: gmv {dict(g)}"
    if hi / lo < 100:
        return (
            False,
            f"runs.parquet says basket_mean {list(g.index)}, but gmv {dict(g.round(0))} shows the same basket ran",
        )
    return True, ""


exp_case(
    "exp.factor_two_spellings",
    "factors market.segments[0].basket_mean: [10, 100000] and market.segments.0.basket_mean: [50]",
    "name: x\nscenario: scenarios/smoke.yaml\nset: {days: 10, market.size: 600}\nfactors:\n"
    "  market.segments[0].basket_mean: [10, 100000]\n  market.segments.0.basket_mean: [50]\nreplications: 1\nseed: 3\n",
    "basket_mean",
    expect=(CE, H),
    check=_two_spellings_check,
    expected="clean_error (the two name one key), or runs.parquet agrees with what ran",
    timeout=90,
)

# ---- D. output paths: every command x every bad --out kind ----------------------------------


def plant_user_dir(ctx: Ctx, rel: str) -> None:
    ctx.write(f"{rel}/notes.txt", "my notes\n")
    ctx.write(f"{rel}/data.csv", "a,b\n1,2\n")


OUT_KINDS = {
    # kind: (setup -> the --out argument, expected outcomes, expected text)
    "nonempty_dir": (lambda c: (plant_user_dir(c, "mine"), "mine")[1], (CE,), "clean_error; user files intact"),
    "file": (lambda c: (c.write("mine.txt", "keep me\n"), "mine.txt")[1], (CE,), "clean_error; file intact"),
    "under_file": (lambda c: (c.write("afile", "keep me\n"), "afile/out")[1], (CE,), "clean_error: a step is a file"),
    "dot": (lambda c: ".", (CE,), "clean_error: '.' is not empty"),
    "proc": (lambda c: "/proc/hostile/out", (CE,), "clean_error: cannot create (read-only /proc)"),
    "sys": (lambda c: "/sys/hostile/out", (CE,), "clean_error: cannot create (read-only /sys)"),
    "name_300": (lambda c: "o" * 300, (CE,), "clean_error: name too long"),
    "dangling_link": (
        lambda c: (os.symlink("elsewhere/target", c.p("link")), "link")[1],
        (CE,),
        "clean_error (or write nowhere outside)",
    ),
    "link_to_empty_dir": (
        lambda c: (c.p("empty").mkdir(), os.symlink("empty", c.p("link")), "link")[2],
        (CE, H),
        "clean_error, or handled writing into the empty dir",
    ),
}


def command_args(ctx: Ctx, cmd: str) -> list[str]:
    if cmd == "run":
        return ["run", "tiny.yaml", "--days", "3", "-q"]
    if cmd == "sweep":
        ctx.write("exp.yaml", json.dumps(X()))
        return ["sweep", "exp.yaml", "--workers", "1", "-q"]
    if cmd == "analyze":
        ctx.fx.place_sweep(ctx)
        return ["analyze", "sweep"]
    if cmd == "export":
        ctx.fx.place_run(ctx, "run")
        return ["export", "run"]
    if cmd == "compare":
        return [
            "compare",
            "tiny.yaml",
            "scenarios/smoke.yaml",
            "--days",
            "3",
            "--set",
            "market.size=300",
            "--replications",
            "2",
            "--workers",
            "1",
            "-q",
        ]
    if cmd == "calibrate":
        ctx.write("obs.csv", OBS_OK)
        return ["calibrate", "tiny.yaml", "--observed", "obs.csv", *CAL_ARGS]
    if cmd == "validate":
        ctx.write("suite.yaml", TINY_SUITE)
        return [
            "validate",
            "--suite",
            "suite.yaml",
            "--set",
            "days=3",
            "--set",
            "market.size=300",
            "--workers",
            "1",
            "-q",
        ]
    raise ValueError(cmd)


OUT_MARKER = {
    "run": "summary.json",
    "sweep": "runs.parquet",
    "analyze": "points.csv",
    "export": None,
    "compare": "comparison.csv",
    "calibrate": "calibrated.yaml",
    "validate": "validation.csv",
}
OUT_MATRIX = {
    "run": list(OUT_KINDS),
    "sweep": list(OUT_KINDS),
    "analyze": list(OUT_KINDS),
    "export": ["nonempty_dir", "under_file", "dot", "proc", "name_300", "dangling_link"],
    "compare": ["nonempty_dir", "file", "under_file", "dot", "proc", "name_300"],
    "calibrate": ["nonempty_dir", "file", "under_file", "dot", "proc", "name_300"],
    "validate": ["nonempty_dir", "file", "under_file", "dot", "proc", "name_300"],
}

for cmd, kinds in OUT_MATRIX.items():
    for kind in kinds:
        setup, expect, text = OUT_KINDS[kind]

        def fn(ctx: Ctx, cmd=cmd, setup=setup, kind=kind) -> Res:
            args = command_args(ctx, cmd)
            out = setup(ctx)
            if kind == "link_to_empty_dir":
                ctx.allow("empty", "link")
            elif kind in ("nonempty_dir",):
                ctx.allow("mine")  # new files beside the user's would be tolerated; the user's files may not change
            return ctx.cli(*args, "--out", out, timeout=120)

        def check(ctx: Ctx, res: Res, cmd=cmd, kind=kind) -> tuple[bool, str]:
            if kind == "link_to_empty_dir":
                marker = OUT_MARKER[cmd]
                ok = (marker is None and any(ctx.p("empty").iterdir())) or (
                    marker and (ctx.p("empty") / marker).exists()
                )
                return bool(ok), "" if ok else "exit 0 but nothing in the link's target"
            return False, f"accepted --out of kind {kind}"

        export_file = cmd == "export"
        text2 = (
            text
            if not (export_file and kind == "nonempty_dir")
            else "clean_error: --out is a directory; user files intact"
        )
        add(f"out.{cmd}.{kind}", f"{cmd} --out <{kind}>", text2, fn, expect, check, timeout=120)


# ---- E. the issue's own cases: analyze, sweep store, export ------------------------------------


@case(
    "analyze.out_user_dir",
    "analyze --out DIR where DIR holds the user's files",
    "clean_error, or write beside them; the user's files intact",
    (CE, H),
)
def _an_user(ctx: Ctx) -> Res:
    ctx.fx.place_sweep(ctx)
    plant_user_dir(ctx, "mine")
    ctx.allow("mine")
    return ctx.cli("analyze", "sweep", "--out", "mine", timeout=90)


CASES[-1].check = exists_check("mine/points.csv")


@case("analyze.out_is_sweep", "analyze SWEEP --out SWEEP", "clean_error, or handled with the sweep intact", (CE, H))
def _an_self(ctx: Ctx) -> Res:
    ctx.fx.place_sweep(ctx)
    ctx.allow("sweep")
    return ctx.cli("analyze", "sweep", "--out", "sweep", timeout=90)


CASES[-1].check = exists_check("sweep/runs.parquet", "sweep/manifest.json", "sweep/chunks")


@case(
    "analyze.out_dot",
    "analyze SWEEP --out . (the cwd holds the scenarios and the sweep)",
    "clean_error, or handled with nothing lost",
    (CE, H),
)
def _an_dot(ctx: Ctx) -> Res:
    ctx.fx.place_sweep(ctx)
    ctx.allow(".")
    return ctx.cli("analyze", "sweep", "--out", ".", timeout=90)


CASES[-1].check = exists_check("sweep/runs.parquet", "scenarios/smoke.yaml", "tiny.yaml")


@case("analyze.out_is_chunks", "analyze SWEEP --out SWEEP/chunks", "clean_error; chunks intact", (CE,))
def _an_chunks(ctx: Ctx) -> Res:
    ctx.fx.place_sweep(ctx)
    ctx.allow("sweep/chunks")
    return ctx.cli("analyze", "sweep", "--out", "sweep/chunks", timeout=90)


CASES[-1].check = accepted


@case(
    "analyze.out_scenarios",
    "analyze --out scenarios (a dir of the user's scenario files)",
    "clean_error; the scenarios intact",
    (CE, H),
)
def _an_scen(ctx: Ctx) -> Res:
    ctx.fx.place_sweep(ctx)
    ctx.allow("scenarios")
    return ctx.cli("analyze", "sweep", "--out", "scenarios", timeout=90)


CASES[-1].check = exists_check("scenarios/points.csv")


@case("analyze.default_twice", "analyze a sweep twice (default out replaced)", "handled: second analyze succeeds", (H,))
def _an_twice(ctx: Ctx) -> Res:
    ctx.fx.place_sweep(ctx)
    ctx.allow("sweep/analysis")
    r = ctx.cli("analyze", "sweep", timeout=90)
    if r.rc != 0:
        return r
    return ctx.cli("analyze", "sweep", timeout=90)


CASES[-1].check = exists_check("sweep/analysis/points.csv")


def sweep_fault_case(id, desc, fault, cmd="analyze", expected=None, expect=(CE, H), check=None, timeout=90):
    def fn(ctx: Ctx) -> Res:
        ctx.fx.place_sweep(ctx)
        fault(ctx, ctx.p("sweep"))
        if cmd == "analyze":
            ctx.allow("sweep/analysis")
            return ctx.cli("analyze", "sweep", timeout=timeout)
        ctx.may_change("sweep")
        return ctx.cli(
            "sweep", "medium.yaml", "--out", "sweep", "--workers", "1", "--chunk-size", "1", "-q", timeout=timeout
        )

    if check is None:
        if cmd == "analyze":
            check = exists_check("sweep/analysis/points.csv")
        else:

            def check(ctx, res):
                return same_runs(ctx.p("sweep/runs.parquet"), ctx.fx.sweep() / "runs.parquet")

    add(
        id,
        desc,
        expected
        or (
            "clean_error naming the file, or handled"
            if cmd == "analyze"
            else "clean_error naming the bad chunk, or resume gives the undisturbed runs.parquet"
        ),
        fn,
        expect,
        check,
        timeout,
    )


def truncate(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def flip_bits(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for i in range(len(data) // 3, len(data) // 3 + 64):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def drop_column(path: Path, pick=lambda cols: [c for c in cols if c.startswith("final.")][0]) -> None:
    import pyarrow.parquet as pq

    t = pq.read_table(path)
    t = t.drop([pick(t.column_names)])
    pq.write_table(t, path)


def chunk(sw: Path, i: int = 1) -> Path:
    return sorted((sw / "chunks").glob("*.parquet"))[i]


sweep_fault_case(
    "analyze.runs_truncated", "analyze with a truncated runs.parquet", lambda c, s: truncate(s / "runs.parquet")
)
sweep_fault_case(
    "analyze.runs_garbage",
    "analyze with runs.parquet = random text",
    lambda c, s: (s / "runs.parquet").write_text("hello"),
)
sweep_fault_case(
    "analyze.runs_missing", "analyze with runs.parquet removed", lambda c, s: (s / "runs.parquet").unlink()
)
sweep_fault_case(
    "analyze.manifest_broken",
    "analyze with a broken manifest.json",
    lambda c, s: truncate(s / "manifest.json", 0.3),
    expect=(CE,),
)
sweep_fault_case(
    "analyze.manifest_empty_obj",
    "analyze with manifest.json = {}",
    lambda c, s: (s / "manifest.json").write_text("{}"),
    expect=(CE,),
)
sweep_fault_case(
    "analyze.manifest_list",
    "analyze with manifest.json = []",
    lambda c, s: (s / "manifest.json").write_text("[]"),
    expect=(CE,),
)
sweep_fault_case(
    "analyze.design_missing", "analyze with design.parquet removed", lambda c, s: (s / "design.parquet").unlink()
)
sweep_fault_case(
    "analyze.design_truncated", "analyze with design.parquet truncated", lambda c, s: truncate(s / "design.parquet")
)
sweep_fault_case(
    "analyze.runs_dropped_column",
    "analyze with a KPI column dropped from runs.parquet",
    lambda c, s: drop_column(s / "runs.parquet"),
)
sweep_fault_case(
    "analyze.analysis_is_file",
    "analyze when SWEEP/analysis is a file",
    lambda c, s: (s / "analysis").write_text("x"),
    expect=(CE,),
)
sweep_fault_case(
    "analyze.analysis_user_files",
    "analyze when SWEEP/analysis holds the user's notes (default out)",
    lambda c, s: plant_user_dir(c, "sweep/analysis"),
    expect=(CE, H),
)

for kind, fault in {
    "flip_bits": lambda c, s: flip_bits(chunk(s)),
    "truncate": lambda c, s: truncate(chunk(s)),
    "empty": lambda c, s: chunk(s).write_bytes(b""),
    "drop_column": lambda c, s: drop_column(chunk(s)),
    "drop_status": lambda c, s: drop_column(chunk(s), lambda cols: "status"),
    "is_dir": lambda c, s: (lambda p: (p.unlink(), p.mkdir()))(chunk(s)),
    "foreign_chunk": lambda c, s: shutil.copy(chunk(s), s / "chunks" / "chunk-99999.parquet"),
    "duplicate_chunk": lambda c, s: shutil.copy(chunk(s, 0), s / "chunks" / "chunk-00000-copy.parquet"),
}.items():
    sweep_fault_case(f"store.chunk_{kind}", f"resume a sweep whose chunk is corrupted: {kind}", fault, cmd="sweep")

sweep_fault_case(
    "store.lock_is_dir",
    "resume a sweep whose .lock is a directory",
    lambda c, s: ((s / ".lock").unlink(missing_ok=True), (s / ".lock").mkdir()),
    cmd="sweep",
)
sweep_fault_case(
    "store.chunks_is_file",
    "resume a sweep whose chunks/ is a file",
    lambda c, s: (shutil.rmtree(s / "chunks"), (s / "chunks").write_text("x")),
    cmd="sweep",
)
sweep_fault_case(
    "store.manifest_broken",
    "resume a sweep with a broken manifest.json",
    lambda c, s: truncate(s / "manifest.json", 0.3),
    cmd="sweep",
    expect=(CE,),
)
sweep_fault_case(
    "store.runs_truncated",
    "resume a finished sweep whose runs.parquet is truncated",
    lambda c, s: truncate(s / "runs.parquet"),
    cmd="sweep",
)
sweep_fault_case(
    "store.design_missing",
    "resume a sweep with design.parquet removed",
    lambda c, s: (s / "design.parquet").unlink(),
    cmd="sweep",
)


@case(
    "store.other_experiment",
    "sweep a different experiment into a finished sweep's dir",
    "clean_error naming both experiments; the sweep intact",
    (CE,),
)
def _store_other(ctx: Ctx) -> Res:
    ctx.fx.place_sweep(ctx)
    ctx.write("other.yaml", json.dumps({**MEDIUM_EXP, "replications": 3}))
    return ctx.cli("sweep", "other.yaml", "--out", "sweep", "--workers", "1", "-q", timeout=60)


CASES[-1].check = accepted


def _two_ok_rows(ctx: Ctx, res: Res) -> tuple[bool, str]:
    runs = read_parquet(ctx.p("sw/runs.parquet"))
    ok = len(runs) == 2 and (runs["status"] == "ok").all()
    return ok, "" if ok else f"{len(runs)} rows, statuses {runs['status'].tolist()}"


@case(
    "store.workers_16",
    "sweep of 2 runs with --workers 16 on 2 cores",
    "handled: 2 ok rows, in about the time of 2 workers (no more workers than chunks)",
    (H,),
    timeout=150,
)
def _w16(ctx: Ctx) -> Res:
    ctx.write("exp.yaml", json.dumps(X()))
    ctx.allow("sw")
    res = ctx.cli("sweep", "exp.yaml", "--out", "sw", "--workers", "16", "-q", timeout=150)
    ctx.notes.append(f"took {res.secs:.1f} s")
    return res


CASES[-1].check = _two_ok_rows


# ---- export --------------------------------------------------------------------------------------


def export_case(
    id, desc, fault=None, args=(), expect=(CE,), expected="clean_error naming the file", check=None, which="a"
):
    def fn(ctx: Ctx) -> Res:
        ctx.fx.place_run(ctx, "run", which)
        if fault:
            fault(ctx, ctx.p("run"))
        ctx.allow("run/export", "x.csv")
        return ctx.cli("export", "run", *args, timeout=60)

    add(id, desc, expected, fn, expect, check or accepted, 60)


@case("export.over_user_file", "export --out FILE where FILE exists", "clean_error; the existing file intact", (CE,))
def _ex_over(ctx: Ctx) -> Res:
    ctx.fx.place_run(ctx, "run")
    ctx.write("mine.csv", "precious,data\n1,2\n")
    return ctx.cli("export", "run", "--out", "mine.csv", timeout=60)


CASES[-1].check = accepted


@case("export.out_is_events", "export --out RUN/events.parquet", "clean_error; the run intact", (CE,))
def _ex_events(ctx: Ctx) -> Res:
    ctx.fx.place_run(ctx, "run")
    return ctx.cli("export", "run", "--out", "run/events.parquet", timeout=60)


CASES[-1].check = accepted

export_case(
    "export.events_truncated", "export with a truncated events.parquet", lambda c, r: truncate(r / "events.parquet")
)
export_case("export.events_missing", "export with events.parquet removed", lambda c, r: (r / "events.parquet").unlink())
export_case(
    "export.events_garbage", "export with events.parquet = text", lambda c, r: (r / "events.parquet").write_text("nope")
)
export_case(
    "export.manifest_broken", "export with a broken manifest.json", lambda c, r: truncate(r / "manifest.json", 0.3)
)


def same_export_as_intact(ctx: Ctx, res: Res) -> tuple[bool, str]:
    """The export of a run without manifest.json (dated from scenario.yaml) equals the intact run's."""
    ctx.allow("intact")
    got = ctx.p("run/export/transactions.csv")
    intact = ctx.p("intact")
    ctx.fx.place_run(ctx, "intact")
    again = ctx.cli("export", "intact", timeout=60)
    want = intact / "export" / "transactions.csv"
    if again.rc != 0 or not got.is_file() or not want.is_file():
        return False, f"no export to compare (exit {again.rc})"
    return (got.read_bytes() == want.read_bytes()), "differs from the intact run's export"


export_case(
    "export.manifest_missing",
    "export with manifest.json removed (scenario.yaml dates the events)",
    lambda c, r: (r / "manifest.json").unlink(),
    expect=(CE, H),
    expected="clean_error, or handled with the same export as the intact run's",
    check=same_export_as_intact,
)
export_case(
    "export.scenario_broken",
    "export with a broken scenario.yaml",
    lambda c, r: (r / "scenario.yaml").write_text("days: [\n"),
    expect=(CE, H),
    expected="clean_error or handled (scenario.yaml not needed)",
    check=lambda c, r: (True, ""),
)
export_case("export.format_bad", "export --format parquet", None, ("--format", "parquet"))
export_case("export.unit_bad", "export --format rfm --unit fortnight", None, ("--format", "rfm", "--unit", "fortnight"))
export_case(
    "export.out_x",
    "export --format rfm --unit week --out x.csv",
    None,
    ("--format", "rfm", "--unit", "week", "--out", "x.csv"),
    expect=(H,),
    expected="handled: x.csv written",
    check=exists_check("x.csv"),
)


@case("export.not_a_run", "export of a sweep directory", "clean_error: not a run directory", (CE,))
def _ex_sweep(ctx: Ctx) -> Res:
    ctx.fx.place_sweep(ctx)
    return ctx.cli("export", "sweep", timeout=60)


CASES[-1].check = accepted


@case("export.missing_dir", "export of a missing directory", "clean_error", (CE,))
def _ex_missing(ctx: Ctx) -> Res:
    return ctx.cli("export", "nope", timeout=30)


CASES[-1].check = accepted


@case(
    "export.stdout_dev_full",
    "export with stdout on /dev/full",
    "clean_error (cannot write stdout) or handled; no traceback",
    (CE, H),
)
def _ex_full(ctx: Ctx) -> Res:
    ctx.fx.place_run(ctx, "run")
    ctx.allow("run/export")
    with open("/dev/full", "wb") as full:
        return ctx.cli("export", "run", timeout=60, stdout=full)


CASES[-1].check = lambda ctx, res: (any(ctx.p("run/export").glob("*.csv")), "no csv")

# ---- compare -----------------------------------------------------------------------------------

CMP = ["--replications", "2", "--workers", "1", "-q"]


def _labels_distinct(ctx: Ctx, res: Res, n: int = 2) -> tuple[bool, str]:
    import pandas as pd

    path = ctx.p("cmp/comparison.csv")
    if not path.exists():
        return False, "no comparison.csv"
    t = pd.read_csv(path)
    col = next((c for c in t.columns if c.lower() in ("strategy", "name", "scenario")), t.columns[0])
    labels = t[col].unique().tolist()
    return (len(labels) == n, f"strategies in comparison.csv: {labels}")


def _horizon_check(ctx: Ctx, res: Res) -> tuple[bool, str]:
    said = any(w in res.text.lower() for w in ("horizon", "days differ", "different days", "different horizons", "day"))
    return said, "" if said else "compared runs of different lengths without a word"


@case(
    "compare.rundirs_different_set",
    "compare two run dirs of one scenario with different --set values",
    "handled: two distinct strategies in comparison.csv (or clean_error asking to name them)",
    (CE, H),
    check=_labels_distinct,
    timeout=90,
)
def _cmp_set(ctx: Ctx) -> Res:
    ctx.fx.place_run(ctx, "ra", "a")
    ctx.fx.place_run(ctx, "rb", "b")
    ctx.allow("cmp")
    return ctx.cli("compare", "ra", "rb", "--out", "cmp", "-q", timeout=90)


@case(
    "compare.rundirs_different_days",
    "compare run dirs with different horizons (5 vs 4 days)",
    "clean_error, or a warning that the horizons differ",
    (CE, H),
    check=_horizon_check,
    timeout=90,
)
def _cmp_days(ctx: Ctx) -> Res:
    ctx.fx.place_run(ctx, "ra", "a")
    ctx.fx.place_run(ctx, "rc", "c")
    ctx.allow("cmp")
    return ctx.cli("compare", "ra", "rc", "--out", "cmp", "-q", timeout=90)


@case(
    "compare.files_different_days",
    "compare two scenario files with different days:",
    "clean_error, or a warning that the horizons differ",
    (CE, H),
    check=_horizon_check,
    timeout=120,
)
def _cmp_fdays(ctx: Ctx) -> Res:
    ctx.write("four.yaml", "extends: tiny.yaml\nname: four\ndays: 4\n")
    ctx.allow("cmp")
    return ctx.cli("compare", "tiny.yaml", "four.yaml", "--out", "cmp", *CMP, timeout=120)


@case(
    "compare.same_file_twice",
    "compare the same file twice",
    "clean_error, or two distinctly labelled strategies",
    (CE, H),
    check=_labels_distinct,
    timeout=120,
)
def _cmp_twice(ctx: Ctx) -> Res:
    ctx.allow("cmp")
    return ctx.cli("compare", "tiny.yaml", "tiny.yaml", "--out", "cmp", *CMP, timeout=120)


@case(
    "compare.same_name",
    "compare two files with the same name:",
    "clean_error, or two distinctly labelled strategies",
    (CE, H),
    check=_labels_distinct,
    timeout=120,
)
def _cmp_samename(ctx: Ctx) -> Res:
    ctx.write("other.yaml", "extends: tiny.yaml\nreferral: {reward_inviter: 30}\n")
    ctx.allow("cmp")
    return ctx.cli("compare", "tiny.yaml", "other.yaml", "--out", "cmp", *CMP, timeout=120)


@case(
    "compare.rundir_no_timeseries",
    "compare a run dir missing timeseries.parquet",
    "clean_error naming the file",
    (CE,),
    check=accepted,
    timeout=90,
)
def _cmp_nots(ctx: Ctx) -> Res:
    ctx.fx.place_run(ctx, "ra", "a")
    ctx.fx.place_run(ctx, "rb", "b")
    (ctx.p("rb") / "timeseries.parquet").unlink()
    ctx.allow("cmp")
    return ctx.cli("compare", "ra", "rb", "--out", "cmp", "-q", timeout=90)


@case(
    "compare.rundir_summary_broken",
    "compare a run dir with a broken summary.json",
    "clean_error naming the file",
    (CE, H),
    check=lambda c, r: (True, ""),
    timeout=90,
)
def _cmp_sum(ctx: Ctx) -> Res:
    ctx.fx.place_run(ctx, "ra", "a")
    ctx.fx.place_run(ctx, "rb", "b")
    truncate(ctx.p("rb/summary.json"), 0.3)
    ctx.allow("cmp")
    return ctx.cli("compare", "ra", "rb", "--out", "cmp", "-q", timeout=90)


@case(
    "compare.baseline_nope",
    "compare --baseline nope",
    "clean_error listing the strategies",
    (CE,),
    check=accepted,
    timeout=60,
)
def _cmp_base(ctx: Ctx) -> Res:
    ctx.allow("cmp")
    return ctx.cli(
        "compare",
        "tiny.yaml",
        "scenarios/smoke.yaml",
        "--baseline",
        "nope",
        "--days",
        "3",
        "--out",
        "cmp",
        *CMP,
        timeout=60,
    )


@case("compare.one_input", "compare with one input", "clean_error: 2 to 6", (CE,), check=accepted, timeout=30)
def _cmp_one(ctx: Ctx) -> Res:
    return ctx.cli("compare", "tiny.yaml", "--out", "cmp", *CMP, timeout=30)


@case("compare.seven_inputs", "compare with seven inputs", "clean_error: 2 to 6", (CE,), check=accepted, timeout=30)
def _cmp_seven(ctx: Ctx) -> Res:
    return ctx.cli("compare", *["tiny.yaml"] * 7, "--out", "cmp", *CMP, timeout=30)


@case(
    "compare.mixed_inputs", "compare a file and a run dir", "clean_error: not both", (CE,), check=accepted, timeout=60
)
def _cmp_mixed(ctx: Ctx) -> Res:
    ctx.fx.place_run(ctx, "ra", "a")
    return ctx.cli("compare", "tiny.yaml", "ra", "--out", "cmp", *CMP, timeout=60)


@case(
    "compare.constraint_bad",
    "compare --constraint 'profit~3'",
    "clean_error with the constraint syntax",
    (CE,),
    check=accepted,
    timeout=60,
)
def _cmp_con(ctx: Ctx) -> Res:
    return ctx.cli(
        "compare", "tiny.yaml", "scenarios/smoke.yaml", "--constraint", "profit~3", "--out", "cmp", *CMP, timeout=60
    )


@case(
    "compare.constraint_nan",
    "compare --constraint profit>=nan",
    "clean_error: not a finite number",
    (CE,),
    check=accepted,
    timeout=60,
)
def _cmp_connan(ctx: Ctx) -> Res:
    ctx.allow("cmp")
    return ctx.cli(
        "compare",
        "tiny.yaml",
        "scenarios/smoke.yaml",
        "--constraint",
        "profit>=nan",
        "--days",
        "3",
        "--set",
        "market.size=300",
        "--out",
        "cmp",
        *CMP,
        timeout=90,
    )


@case("compare.objective_bad", "compare --objective score:profit=abc", "clean_error", (CE,), check=accepted, timeout=60)
def _cmp_obj(ctx: Ctx) -> Res:
    return ctx.cli(
        "compare",
        "tiny.yaml",
        "scenarios/smoke.yaml",
        "--objective",
        "score:profit=abc",
        "--out",
        "cmp",
        *CMP,
        timeout=60,
    )


@case(
    "compare.rundirs_no_shared_seed",
    "compare run dirs with different seeds",
    "clean_error: cannot be paired",
    (CE,),
    check=accepted,
    timeout=90,
)
def _cmp_seed(ctx: Ctx) -> Res:
    ctx.fx.place_run(ctx, "ra", "a")
    r = ctx.cli("run", "tiny.yaml", "--seed", "2", "--out", "rb", "-q", timeout=60)
    if r.rc != 0:
        ctx.fail("harness_error", f"could not make the second run: {r.err[-200:]}")
        return r
    ctx.allow("cmp", "rb")
    return ctx.cli("compare", "ra", "rb", "--out", "cmp", "-q", timeout=90)


# ---- calibrate: the observed file ------------------------------------------------------------


def obs_case(
    id,
    desc,
    content,
    want=None,
    extra=(),
    expect=(CE,),
    expected="clean_error naming the file and row",
    check=None,
    timeout=60,
):
    def fn(ctx: Ctx) -> Res:
        if content is not None:
            ctx.write("obs.csv", content)
        ctx.allow("cal")
        return ctx.cli(
            "calibrate", "tiny.yaml", "--observed", "obs.csv", *CAL_ARGS, *extra, "--out", "cal", timeout=timeout
        )

    add(id, desc, expected, fn, expect, check or accepted, timeout, want)


def _finite_metrics(ctx: Ctx, res: Res) -> tuple[bool, str]:
    path = ctx.p("cal/metrics.json")
    if not path.exists():
        return False, "no metrics.json"
    text = path.read_text()
    bad = [w for w in ("NaN", "Infinity") if w in text]
    return (not bad, f"metrics.json holds {bad}" if bad else "")


obs_case("calibrate.obs_inf", "observed value inf", OBS_OK.replace("0,3", "0,inf"), "obs.csv")
obs_case("calibrate.obs_neg_inf", "observed value -inf", OBS_OK.replace("0,3", "0,-inf"), "obs.csv")
obs_case(
    "calibrate.obs_nan_text",
    "observed value 'nan' written out",
    OBS_OK.replace("0,3", "0,nan"),
    "obs.csv",
    expect=(CE, H),
    expected="clean_error, or treated as an empty cell",
    check=_finite_metrics,
)
obs_case(
    "calibrate.obs_1e308",
    "observed value 1e308",
    OBS_OK.replace("0,3", "0,1e308"),
    "obs.csv",
    expect=(CE, H),
    expected="clean_error, or a finite fit (no inf/NaN in metrics.json)",
    check=_finite_metrics,
)
obs_case(
    "calibrate.obs_negative_count",
    "negative purchases",
    OBS_OK.replace("0,3", "0,-5"),
    "obs.csv",
    expected="clean_error: a count cannot be negative",
)
obs_case("calibrate.obs_dup_day", "a day listed twice", OBS_OK + "3,4\n", "more than once")
obs_case(
    "calibrate.obs_dup_period",
    "two rows in one week of weekly data",
    "day,purchases\n0,20\n7,21\n10,22\n14,23\n",
    None,
    expected="clean_error: a week appears twice",
)
obs_case("calibrate.obs_day_1e30", "day 1e30", OBS_OK + "1e30,3\n", "obs.csv")
obs_case(
    "calibrate.obs_day_huge_int",
    "day 10**12",
    OBS_OK + "1000000000000,3\n",
    None,
    expected="clean_error: beyond any run (bounded time)",
)
obs_case("calibrate.obs_day_fraction", "day 2.5", OBS_OK + "2.5,3\n", "obs.csv")
obs_case("calibrate.obs_day_negative", "day -1", OBS_OK + "-1,3\n", "obs.csv")
obs_case(
    "calibrate.obs_date_mixed_tz",
    "dates with mixed time zones",
    "date,purchases\n2026-01-01T00:00:00+08:00,3\n2026-01-02T00:00:00Z,4\n2026-01-03,5\n2026-01-04,3\n2026-01-05,3\n2026-01-06,3\n2026-01-07,3\n",
    "obs.csv",
    expect=(CE,),
    expected="clean_error (ambiguous days), not a traceback",
)
obs_case(
    "calibrate.obs_date_tz",
    "dates all with +08:00",
    "date,purchases\n" + "".join(f"2026-01-0{d + 1}T00:00:00+08:00,3\n" for d in range(7)),
    "obs.csv",
    expect=(CE, H),
    expected="clean_error or handled",
    check=exists_check("cal/calibrated.yaml"),
)
obs_case(
    "calibrate.obs_date_before_start",
    "a date before start_date",
    "date,purchases\n2025-12-31,3\n2026-01-01,4\n",
    "start_date",
)
obs_case("calibrate.obs_date_bad", "date 2026-02-30", "date,purchases\n2026-02-30,3\n", "obs.csv")
obs_case("calibrate.obs_no_day_col", "no day/date column", "purchases\n3\n4\n", "day")
obs_case("calibrate.obs_unknown_kpi", "a column that is no KPI", "day,purchaces\n0,3\n", "purchases")
obs_case("calibrate.obs_word", "a non-number cell", OBS_OK.replace("0,3", "0,abc"), "obs.csv:2")
obs_case("calibrate.obs_empty", "empty observed file", "", "obs.csv")
obs_case("calibrate.obs_header_only", "header only", "day,purchases\n", "obs.csv")
obs_case(
    "calibrate.obs_bom",
    "UTF-8 BOM before the header",
    "\ufeff" + OBS_OK,
    None,
    expect=(CE, H),
    expected="handled (BOM ignored) or clean_error",
    check=exists_check("cal/calibrated.yaml"),
    timeout=90,
)
obs_case("calibrate.obs_utf16", "UTF-16 observed file", OBS_OK.encode("utf-16"), "obs.csv")
obs_case("calibrate.obs_binary", "binary garbage", bytes(range(256)) * 8, "obs.csv")
obs_case("calibrate.obs_ragged", "ragged rows", "day,purchases\n0,3,9,9\n1\n", "obs.csv")
obs_case(
    "calibrate.obs_all_zero",
    "all-zero target (training mean 0)",
    "day,purchases\n" + "".join(f"{d},0\n" for d in range(7)),
    "purchases",
)
obs_case("calibrate.obs_missing", "--observed file missing", None, "obs.csv")


@case("calibrate.obs_dir", "--observed DIR", "clean_error: not a file", (CE,), check=accepted, timeout=60)
def _cal_dir(ctx: Ctx) -> Res:
    ctx.p("obsdir").mkdir()
    ctx.allow("cal")
    return ctx.cli("calibrate", "tiny.yaml", "--observed", "obsdir", *CAL_ARGS, "--out", "cal", timeout=60)


@case(
    "calibrate.obs_fifo", "--observed a named pipe", "clean_error without blocking", (CE,), check=accepted, timeout=30
)
def _cal_fifo(ctx: Ctx) -> Res:
    os.mkfifo(ctx.p("obs.csv"))
    ctx.allow("cal")
    return ctx.cli("calibrate", "tiny.yaml", "--observed", "obs.csv", *CAL_ARGS, "--out", "cal", timeout=30)


def fit_case(id, desc, fit, want=None, extra=()):
    def fn(ctx: Ctx) -> Res:
        ctx.write("obs.csv", OBS_OK)
        ctx.allow("cal")
        return ctx.cli(
            "calibrate",
            "tiny.yaml",
            "--observed",
            "obs.csv",
            "--fit",
            fit,
            "--trials",
            "1",
            "--replications",
            "1",
            "-q",
            *extra,
            "--out",
            "cal",
            timeout=60,
        )

    add(id, desc, "clean_error naming --fit", fn, (CE,), accepted, 60, want)


fit_case("calibrate.fit_reversed", "--fit low above high", "purchase.base_prob=0.08:0.01", "--fit")
fit_case("calibrate.fit_nan", "--fit with nan", "purchase.base_prob=nan:0.08", "--fit")
fit_case("calibrate.fit_inf", "--fit with inf", "referral.reward_inviter=0:inf", "--fit")
fit_case("calibrate.fit_1e308", "--fit 0:1e308 of a bounded key", "referral.reward_inviter=0:1e308", "reward_inviter")
fit_case("calibrate.fit_unknown", "--fit of an unknown key", "purchase.base_prb=0.01:0.08", "base_prob")
fit_case("calibrate.fit_not_numeric", "--fit of a string key", "name=0:1", "name")
fit_case("calibrate.fit_no_range", "--fit without a range", "purchase.base_prob", "--fit")
fit_case(
    "calibrate.period_bad", "--period fortnight", "purchase.base_prob=0.01:0.08", "period", ("--period", "fortnight")
)
fit_case(
    "calibrate.train_until_bad",
    "--train-until soon",
    "purchase.base_prob=0.01:0.08",
    "train",
    ("--train-until", "soon"),
)
fit_case(
    "calibrate.train_until_1e30",
    "--train-until 1e30",
    "purchase.base_prob=0.01:0.08",
    "train",
    ("--train-until", "1e30"),
)
fit_case("calibrate.target_unknown", "--target gmvv", "purchase.base_prob=0.01:0.08", "gmv", ("--target", "gmvv"))
fit_case(
    "calibrate.target_weight_nan",
    "--target purchases:nan",
    "purchase.base_prob=0.01:0.08",
    "purchases",
    ("--target", "purchases:nan"),
)
fit_case("calibrate.stocks_bad", "--stocks median", "purchase.base_prob=0.01:0.08", "stocks", ("--stocks", "median"))


@case(
    "calibrate.name_dotdot",
    "calibrate a scenario named '..' without --out",
    "clean_error: '..' cannot be a directory under results",
    (CE,),
    check=accepted,
    timeout=60,
)
def _cal_dotdot(ctx: Ctx) -> Res:
    ctx.write("dd.yaml", TINY.replace("name: tiny", "name: '..'"))
    ctx.write("obs.csv", OBS_OK)
    ctx.allow("results/x")
    return ctx.cli("calibrate", "dd.yaml", "--observed", "obs.csv", *CAL_ARGS, timeout=60)


# ---- validate ------------------------------------------------------------------------------------


@case("validate.suite_missing", "validate --suite nope.yaml", "clean_error", (CE,), check=accepted, timeout=30)
def _val_missing(ctx: Ctx) -> Res:
    return ctx.cli("validate", "--suite", "nope.yaml", "--out", "val", "-q", timeout=30)


@case(
    "validate.scenario_missing",
    "validate a suite naming a missing scenario",
    "clean_error naming the scenario",
    (CE,),
    check=accepted,
    timeout=60,
)
def _val_scen(ctx: Ctx) -> Res:
    ctx.write("suite.yaml", TINY_SUITE.replace("scenario: smoke", "scenario: no_such_scenario"))
    ctx.allow("val")
    return ctx.cli("validate", "--suite", "suite.yaml", "--out", "val", "--workers", "1", "-q", timeout=60)


@case(
    "validate.set_mix_2",
    "validate --set content.mix.promotional=2",
    "clean_error before any run",
    (CE,),
    check=accepted,
    timeout=60,
)
def _val_mix(ctx: Ctx) -> Res:
    ctx.write("suite.yaml", TINY_SUITE)
    ctx.allow("val")
    return ctx.cli(
        "validate",
        "--suite",
        "suite.yaml",
        "--set",
        "content.mix.promotional=2",
        "--out",
        "val",
        "--workers",
        "1",
        "-q",
        timeout=60,
    )


@case("validate.suite_empty", "validate an empty suite file", "clean_error", (CE,), check=accepted, timeout=30)
def _val_empty(ctx: Ctx) -> Res:
    ctx.write("suite.yaml", "")
    return ctx.cli("validate", "--suite", "suite.yaml", "--out", "val", "-q", timeout=30)


@case(
    "validate.metric_unknown",
    "validate a suite with an unknown metric",
    "clean_error naming the metric",
    (CE,),
    check=accepted,
    timeout=60,
)
def _val_metric(ctx: Ctx) -> Res:
    ctx.write("suite.yaml", TINY_SUITE.replace("referral_conversion", "no_such_metric"))
    ctx.allow("val")
    return ctx.cli("validate", "--suite", "suite.yaml", "--out", "val", "--workers", "1", "-q", timeout=60)


@case(
    "validate.scenario_traversal",
    "validate a suite with scenario: ../../etc/passwd",
    "clean_error",
    (CE,),
    check=accepted,
    timeout=60,
)
def _val_trav(ctx: Ctx) -> Res:
    ctx.write("suite.yaml", TINY_SUITE.replace("scenario: smoke", "scenario: ../../../../etc/passwd"))
    ctx.allow("val")
    return ctx.cli("validate", "--suite", "suite.yaml", "--out", "val", "--workers", "1", "-q", timeout=60)


# ---- F. processes, signals, environment ------------------------------------------------------


def wait_for(pred: Callable[[], bool], timeout: float, proc=None) -> bool:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if pred():
            return True
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.1)
    return False


def _signal_run(ctx: Ctx, sig: int, code: int) -> Res:
    ctx.allow("results")
    proc = ctx.start(
        [
            "run",
            "tiny.yaml",
            "--days",
            "3650",
            "--set",
            "market.size=30000",
            "--set",
            "acquisition.initial_members=1000",
            "-q",
        ]
    )
    time.sleep(4.0)
    if proc.poll() is not None:
        res = ctx.finish(proc, 5)
        ctx.fail("harness_error", f"the run ended (exit {res.rc}) before the signal; make it longer")
        return res
    os.kill(proc.pid, sig)
    res = ctx.finish(proc, 30)
    left = run_dirs(ctx.p("results")) + partials(ctx.p("results"))
    if res.rc == code and not left:
        return res
    if res.rc == code and left:
        ctx.fail("other", f"exit {code} but left {[str(p.relative_to(ctx.work)) for p in left]}")
    elif res.rc is not None and res.rc < 0:
        ctx.fail(
            "other", f"killed by signal {-res.rc} (no handler); left {[str(p.relative_to(ctx.work)) for p in left]}"
        )
    return res


@case(
    "signal.run_sigterm",
    "SIGTERM to run mid-way",
    "clean_error: exit 143, nothing written",
    (CE,),
    check=lambda c, r: (False, "exit 0 after SIGTERM"),
    interrupt=True,
    timeout=90,
)
def _run_term(ctx: Ctx) -> Res:
    return _signal_run(ctx, signal.SIGTERM, 143)


@case(
    "signal.run_sigint",
    "SIGINT (Ctrl-C) to run mid-way",
    "clean_error: exit 130, 'interrupted; nothing was written'",
    (CE,),
    check=lambda c, r: (False, "exit 0 after SIGINT"),
    interrupt=True,
    timeout=90,
)
def _run_int(ctx: Ctx) -> Res:
    return _signal_run(ctx, signal.SIGINT, 130)


def _first_chunk(ctx: Ctx, out: str) -> Callable[[], bool]:
    return lambda: any((ctx.p(out) / "chunks").glob("chunk-*.parquet")) if (ctx.p(out) / "chunks").exists() else False


def _sweep_signal(ctx: Ctx, sig: int) -> Res:
    ctx.write("medium.yaml", json.dumps(MEDIUM_EXP))
    ctx.allow("sw")
    proc = ctx.start(["sweep", "medium.yaml", "--out", "sw", "--workers", "1", "--chunk-size", "1", "-q"])
    if not wait_for(_first_chunk(ctx, "sw"), 90, proc):
        res = ctx.finish(proc, 5)
        ctx.fail("harness_error", f"no chunk appeared before the sweep ended (exit {res.rc})")
        return res
    os.kill(proc.pid, sig)
    first = ctx.finish(proc, 30)
    time.sleep(1.0)
    left = token_pids(ctx.token)
    notes = [f"after signal {sig}: exit {first.rc}"]
    if left:
        notes.append(
            f"{len(left)} processes still alive 1 s after the sweep died: {[proc_cmdline(p) for p in left][:3]}"
        )
        if not wait_for(lambda: not token_pids(ctx.token), 4):
            kill_pids(token_pids(ctx.token))
            notes.append("still alive after 5 s (killed)")
    try:
        man = json.loads((ctx.p("sw") / "manifest.json").read_text())
        notes.append(f"manifest status {man.get('status')!r}")
    except Exception as exc:  # noqa: BLE001
        notes.append(f"manifest unreadable: {type(exc).__name__}")
    ctx.notes += notes
    if first.timed_out:
        ctx.fail("hung", "the sweep did not stop within 30 s of the signal")
        return first
    if "Traceback" in first.text:
        return first
    expected_codes = {signal.SIGTERM: (143, 130), signal.SIGINT: (130,), signal.SIGKILL: (-9,)}[sig]
    if first.rc not in expected_codes:
        ctx.fail("other", "; ".join(notes))
    elif any("still alive after" in n for n in notes):
        ctx.fail("hung", "; ".join(notes))
    resumed = ctx.cli("sweep", "medium.yaml", "--out", "sw", "--workers", "1", "--chunk-size", "1", "-q", timeout=120)
    ctx.notes.append(f"resume exit {resumed.rc}")
    if resumed.rc != 0 and ctx.verdict is None:
        ctx.fail(
            "other" if "Traceback" not in resumed.text else "traceback",
            f"resume exited {resumed.rc}: {resumed.err.strip()[-200:]}",
        )
    elif resumed.rc == 0 and ctx.verdict is None:
        ok, why = same_runs(ctx.p("sw/runs.parquet"), ctx.fx.sweep() / "runs.parquet")
        if not ok:
            ctx.fail("silently_wrong", f"resumed sweep: {why}")
        elif sig != signal.SIGKILL:
            ctx.fail(CE, "; ".join(notes) + "; resume matched the undisturbed sweep")
        else:
            ctx.fail(H, "; ".join(notes) + "; resume matched the undisturbed sweep")
    return resumed


@case(
    "signal.sweep_sigterm",
    "SIGTERM to sweep after its first chunk, then resume",
    "exit 143 (or 130), chunks kept, no processes left, resume equals the undisturbed sweep",
    (CE,),
    interrupt=True,
    timeout=240,
)
def _sw_term(ctx: Ctx) -> Res:
    return _sweep_signal(ctx, signal.SIGTERM)


@case(
    "signal.sweep_sigint",
    "SIGINT to sweep's process group after its first chunk, then resume",
    "exit 130, chunks kept, no processes left, resume equals the undisturbed sweep",
    (CE,),
    interrupt=True,
    timeout=240,
)
def _sw_int(ctx: Ctx) -> Res:
    return _sweep_signal(ctx, signal.SIGINT)


@case(
    "signal.sweep_sigkill",
    "SIGKILL to sweep after its first chunk, then resume",
    "workers exit with their parent; resume equals the undisturbed sweep",
    (H,),
    interrupt=True,
    timeout=240,
)
def _sw_kill(ctx: Ctx) -> Res:
    return _sweep_signal(ctx, signal.SIGKILL)


def _rerun_on_fresh_workers(ctx: Ctx, res: Res) -> tuple[bool, str]:
    if "--chunk-timeout" not in res.err:
        return False, "finished without saying a chunk was run again"
    return same_runs(ctx.p("sw/runs.parquet"), ctx.fx.sweep() / "runs.parquet")


@case(
    "signal.sweep_sigstop_worker",
    "SIGSTOP the sweep's worker processes, with --chunk-timeout 5 (40 s bound)",
    "handled: the stuck chunk is run again on fresh workers, with a warning; the table equals the undisturbed one",
    (H,),
    check=_rerun_on_fresh_workers,
    timeout=40,
)
def _sw_stop(ctx: Ctx) -> Res:
    ctx.write("medium.yaml", json.dumps(MEDIUM_EXP))
    ctx.allow("sw")
    args = ["sweep", "medium.yaml", "--out", "sw", "--workers", "1", "--chunk-size", "1", "--chunk-timeout", "5", "-q"]
    proc = ctx.start(args)
    if not wait_for(_first_chunk(ctx, "sw"), 20, proc):
        res = ctx.finish(proc, 5)
        ctx.fail("harness_error", f"no chunk appeared in 20 s (exit {res.rc})")
        return res
    workers = worker_pids(ctx.token, proc.pid)
    ctx.notes.append(f"stopped {len(workers)} processes")
    for p in workers:
        try:
            os.kill(p, signal.SIGSTOP)
        except OSError:
            pass
    return ctx.finish(proc, 40)


@case(
    "signal.sweep_kill_worker",
    "SIGKILL the sweep's worker processes mid-sweep",
    "clean_error (exit 1 documented for a dead worker; exit 2/3 accepted) or handled by rerunning the chunk; no hang",
    (CE, H),
    timeout=120,
)
def _sw_killw(ctx: Ctx) -> Res:
    ctx.write("medium.yaml", json.dumps(MEDIUM_EXP))
    ctx.allow("sw")
    proc = ctx.start(["sweep", "medium.yaml", "--out", "sw", "--workers", "1", "--chunk-size", "1", "-q"])
    if not wait_for(_first_chunk(ctx, "sw"), 60, proc):
        res = ctx.finish(proc, 5)
        ctx.fail("harness_error", f"no chunk appeared (exit {res.rc})")
        return res
    victims = worker_pids(ctx.token, proc.pid)
    ctx.notes.append(f"killed {len(victims)} worker processes")
    kill_pids(victims)
    res = ctx.finish(proc, 90)
    if res.rc == 1 and "Traceback" not in res.text and has_error_line(res.err):
        ctx.fail(CE, "exit 1 with an error line (documented for a dead worker)")
    return res


CASES[-1].check = lambda ctx, res: same_runs(ctx.p("sw/runs.parquet"), ctx.fx.sweep() / "runs.parquet")


@case(
    "concurrency.two_runs_same_seed",
    "two runs of the same scenario and seed started together without --out",
    "handled: two complete, distinct run dirs with identical timeseries.csv (or one clean refusal)",
    (H, CE),
    timeout=120,
)
def _two_runs(ctx: Ctx) -> Res:
    ctx.allow("results")
    a = ctx.start(["run", "tiny.yaml", "--days", "3", "-q"])
    b = ctx.start(["run", "tiny.yaml", "--days", "3", "-q"])
    ra, rb = ctx.finish(a, 120), ctx.finish(b, 120)
    dirs = run_dirs(ctx.p("results"))
    ctx.notes.append(f"exits {ra.rc}, {rb.rc}; {len(dirs)} run dirs")
    if ra.rc == 0 and rb.rc == 0:
        if len(dirs) != 2:
            ctx.fail("silently_wrong", f"both exited 0 but {len(dirs)} run dir(s) exist")
        elif (dirs[0] / "timeseries.csv").read_bytes() != (dirs[1] / "timeseries.csv").read_bytes():
            ctx.fail("silently_wrong", "the two runs' timeseries.csv differ")
        return ra
    return ra if ra.rc != 0 else rb


CASES[-1].check = lambda c, r: (True, "")


@case(
    "concurrency.two_sweeps_same_out",
    "two sweeps into one --out at once",
    "one runs, the other a clean error (another sweep is writing); final runs.parquet correct",
    (CE, H),
    timeout=180,
)
def _two_sweeps(ctx: Ctx) -> Res:
    ctx.write("medium.yaml", json.dumps(MEDIUM_EXP))
    ctx.allow("sw")
    a = ctx.start(["sweep", "medium.yaml", "--out", "sw", "--workers", "1", "--chunk-size", "1", "-q"])
    time.sleep(0.5)
    b = ctx.start(["sweep", "medium.yaml", "--out", "sw", "--workers", "1", "--chunk-size", "1", "-q"])
    ra, rb = ctx.finish(a, 180), ctx.finish(b, 180)
    ctx.notes.append(f"exits {ra.rc}, {rb.rc}")
    loser = rb if rb.rc != 0 else ra
    winner = ra if loser is rb else rb
    if winner.rc != 0:
        return winner
    ok, why = same_runs(ctx.p("sw/runs.parquet"), ctx.fx.sweep() / "runs.parquet")
    if not ok:
        ctx.fail("silently_wrong", why)
    return loser


CASES[-1].check = lambda c, r: (True, "")


@case(
    "env.stdout_dev_full",
    "run with stdout on /dev/full (not quiet)",
    "clean_error (cannot write stdout; the run may be kept) or handled; no traceback",
    (CE, H),
    timeout=90,
)
def _dev_full(ctx: Ctx) -> Res:
    ctx.allow("r")
    with open("/dev/full", "wb") as full:
        return ctx.cli("run", "tiny.yaml", "--days", "3", "--out", "r", timeout=90, stdout=full)


CASES[-1].check = exists_check("r/summary.json")


@case(
    "env.ulimit_v_500MB",
    "run under ulimit -v 500000 (500 MB address space)",
    "handled (a tiny run fits) or clean_error 'out of memory'; no traceback",
    (H, CE),
    timeout=90,
)
def _ulimit(ctx: Ctx) -> Res:
    ctx.allow("r")
    return ctx.cli("run", "tiny.yaml", "--days", "3", "--out", "r", "-q", timeout=90, preexec=_limit_as(500_000 * 1024))


CASES[-1].check = exists_check("r/summary.json")


@case(
    "env.home_nonexistent",
    "run with HOME=/nonexistent",
    "handled: the run is written and nothing is created anywhere else",
    (H,),
    timeout=90,
)
def _home_none(ctx: Ctx) -> Res:
    ctx.allow("r")
    home = "/nonexistent-hostile-" + ctx.token[:8]
    res = ctx.cli("run", "tiny.yaml", "--days", "3", "--out", "r", "-q", timeout=90, env={"HOME": home})
    if os.path.exists(home):
        ctx.fail("wrote_outside", f"created {home}")
        shutil.rmtree(home, ignore_errors=True)
    return res


CASES[-1].check = exists_check("r/summary.json")


@case(
    "env.home_fresh",
    "run with a fresh, empty HOME",
    "handled: the run is written and nothing is created in HOME (e.g. no matplotlib cache)",
    (H,),
    check=exists_check("r/summary.json"),
    timeout=90,
)
def _home_fresh(ctx: Ctx) -> Res:
    ctx.allow("r")
    return ctx.cli("run", "tiny.yaml", "--days", "3", "--out", "r", "-q", timeout=90)


CASES[-1].cold_home = True


@case(
    "env.home_fresh_error",
    "a refused input (missing scenario) with a fresh, empty HOME",
    "clean_error and nothing created in HOME",
    (CE,),
    check=accepted,
    timeout=60,
)
def _home_fresh_err(ctx: Ctx) -> Res:
    ctx.fx.place_run(ctx, "run")
    return ctx.cli("export", "run", "--format", "nope", timeout=60)


CASES[-1].cold_home = True


@case(
    "env.home_readonly_file",
    "run with HOME pointing at a regular file",
    "handled: the run is written",
    (H,),
    timeout=90,
)
def _home_file(ctx: Ctx) -> Res:
    ctx.allow("r")
    return ctx.cli(
        "run", "tiny.yaml", "--days", "3", "--out", "r", "-q", timeout=90, env={"HOME": str(ctx.home / ".profile")}
    )


CASES[-1].check = exists_check("r/summary.json")


@case(
    "env.cwd_deleted", "run from a working directory that was deleted", "clean_error, no traceback", (CE,), timeout=60
)
def _cwd_gone(ctx: Ctx) -> Res:
    gone = ctx.root / "gone"
    gone.mkdir()
    scen = str(ctx.p("tiny.yaml"))
    proc_env = {**ctx.env}
    ctx.nlog += 1
    err_path = ctx.logs / f"{ctx.nlog}.err"
    t0 = time.monotonic()
    with open(err_path, "wb") as ferr:
        code = (
            f"import os,sys; os.chdir({str(gone)!r}); os.rmdir({str(gone)!r}); "
            f"sys.argv=['community-sim','run',{scen!r},'--days','3','-q']; from sim.cli import entry; entry()"
        )
        p = subprocess.run(
            [sys.executable, "-c", code],
            env=proc_env,
            stdout=subprocess.DEVNULL,
            stderr=ferr,
            timeout=60,
            start_new_session=True,
        )
    return Res(p.returncode, "", err_path.read_text(errors="replace"), time.monotonic() - t0)


CASES[-1].check = accepted


def _mode_check(paths: Callable[[Ctx], list[Path]]) -> Check:
    def check(ctx: Ctx, res: Res) -> tuple[bool, str]:
        bad = []
        for top in paths(ctx):
            items = [top] + (list(top.rglob("*")) if top.is_dir() else [])
            for p in items:
                mode = stat.S_IMODE(p.lstat().st_mode)
                want = 0o755 if p.is_dir() else 0o644
                if mode != want and not p.is_symlink():
                    bad.append(f"{p.relative_to(ctx.work)}:{oct(mode)}")
        return (not bad, f"not as umask 022 gives ({len(bad)}): {bad[:4]}" if bad else "")

    return check


@case(
    "umask.run",
    "run under umask 022: modes of the run dir",
    "handled: dirs 0755, files 0644",
    (H,),
    check=_mode_check(lambda c: [c.p("r")]),
    timeout=90,
)
def _um_run(ctx: Ctx) -> Res:
    ctx.allow("r")
    return ctx.cli("run", "tiny.yaml", "--days", "3", "--out", "r", "-q", umask=0o022, timeout=90)


@case(
    "umask.run_default_dir",
    "run under umask 022 without --out: results/<name>/",
    "handled: dirs 0755, files 0644",
    (H,),
    check=_mode_check(lambda c: [c.p("results")]),
    timeout=90,
)
def _um_run2(ctx: Ctx) -> Res:
    ctx.allow("results")
    return ctx.cli("run", "tiny.yaml", "--days", "3", "-q", umask=0o022, timeout=90)


@case(
    "umask.compare",
    "compare under umask 022",
    "handled: dirs 0755, files 0644",
    (H,),
    check=_mode_check(lambda c: [c.p("cmp")]),
    timeout=150,
)
def _um_cmp(ctx: Ctx) -> Res:
    ctx.allow("cmp")
    return ctx.cli(
        "compare",
        "tiny.yaml",
        "scenarios/smoke.yaml",
        "--days",
        "3",
        "--set",
        "market.size=300",
        "--out",
        "cmp",
        *CMP,
        umask=0o022,
        timeout=150,
    )


@case(
    "umask.calibrate",
    "calibrate under umask 022",
    "handled: dirs 0755, files 0644",
    (H,),
    check=_mode_check(lambda c: [c.p("cal")]),
    timeout=120,
)
def _um_cal(ctx: Ctx) -> Res:
    ctx.write("obs.csv", OBS_OK)
    ctx.allow("cal")
    return ctx.cli(
        "calibrate", "tiny.yaml", "--observed", "obs.csv", *CAL_ARGS, "--out", "cal", umask=0o022, timeout=120
    )


@case(
    "umask.export",
    "export under umask 022",
    "handled: the CSV 0644 (its new dir 0755)",
    (H,),
    check=_mode_check(lambda c: [c.p("run/export")]),
    timeout=60,
)
def _um_exp(ctx: Ctx) -> Res:
    ctx.fx.place_run(ctx, "run")
    ctx.allow("run/export")
    return ctx.cli("export", "run", umask=0o022, timeout=60)


@case("umask.sweep", "sweep under umask 022", "handled: dirs 0755, files 0644 (the .lock aside)", (H,), timeout=90)
def _um_sweep(ctx: Ctx) -> Res:
    ctx.write("exp.yaml", json.dumps(X()))
    ctx.allow("sw")
    return ctx.cli("sweep", "exp.yaml", "--out", "sw", "--workers", "1", "-q", umask=0o022, timeout=90)


CASES[-1].check = _mode_check(lambda c: [p for p in c.p("sw").iterdir() if p.name != ".lock"])


@case(
    "umask.analyze",
    "analyze under umask 022",
    "handled: dirs 0755, files 0644",
    (H,),
    check=_mode_check(lambda c: [c.p("sweep/analysis")]),
    timeout=90,
)
def _um_an(ctx: Ctx) -> Res:
    ctx.fx.place_sweep(ctx)
    ctx.allow("sweep/analysis")
    return ctx.cli("analyze", "sweep", umask=0o022, timeout=90)


@case(
    "run.crisis_response_60_days",
    "run scenarios/crisis_response.yaml --days 60 (its events fall after day 60)",
    "clean_error naming the events outside the run, or handled (events beyond the horizon dropped, said so)",
    (CE, H),
    check=exists_check("r/summary.json"),
    timeout=90,
)
def _crisis(ctx: Ctx) -> Res:
    ctx.allow("r")
    return ctx.cli(
        "run",
        "scenarios/crisis_response.yaml",
        "--days",
        "60",
        "--set",
        "market.size=3000",
        "--out",
        "r",
        "-q",
        timeout=90,
    )


@case(
    "run.out_dotdot_name",
    "run --out .. (the parent of the working dir)",
    "clean_error: not empty",
    (CE,),
    check=accepted,
    timeout=30,
)
def _out_dotdot(ctx: Ctx) -> Res:
    return ctx.cli("run", "tiny.yaml", "--days", "3", "--out", "..", "-q", timeout=30)


@case("run.results_is_file", "run --results FILE", "clean_error: a step is a file", (CE,), check=accepted, timeout=30)
def _res_file(ctx: Ctx) -> Res:
    ctx.write("results", "keep\n")
    return ctx.cli("run", "tiny.yaml", "--days", "3", "-q", timeout=30)


@case(
    "run.scenario_named_dotdot",
    "run a scenario named '..' without --out",
    "clean_error: '..' cannot be a directory under results",
    (CE,),
    check=accepted,
    timeout=30,
)
def _name_dotdot(ctx: Ctx) -> Res:
    ctx.write("d.yaml", TINY.replace("name: tiny", "name: '..'"))
    ctx.allow("results/x")
    return ctx.cli("run", "d.yaml", "--days", "3", "-q", timeout=30)


@case(
    "run.scenario_named_dot",
    "run a scenario named '.' without --out",
    "clean_error: '.' cannot be a directory under results",
    (CE,),
    check=accepted,
    timeout=30,
)
def _name_dot(ctx: Ctx) -> Res:
    ctx.write("d.yaml", TINY.replace("name: tiny", "name: '.'"))
    ctx.allow("results/x")
    return ctx.cli("run", "d.yaml", "--days", "3", "-q", timeout=30)


@case(
    "run.rerun_output_as_input",
    "run the scenario.yaml a run wrote (documented to be accepted unchanged)",
    "handled: same timeseries.csv as the original",
    (H,),
    timeout=90,
)
def _rerun(ctx: Ctx) -> Res:
    ctx.fx.place_run(ctx, "ra")
    ctx.allow("rb")
    return ctx.cli("run", "ra/scenario.yaml", "--out", "rb", "-q", timeout=90)


def _same_ts(c: Ctx, r: Res) -> tuple[bool, str]:
    same = c.p("ra/timeseries.csv").read_bytes() == c.p("rb/timeseries.csv").read_bytes()
    return same, "" if same else "timeseries.csv differs from the original run"


CASES[-1].check = _same_ts


@case("cli.unknown_command", "community-sim frobnicate", "clean_error (usage)", (CE,), check=accepted, timeout=30)
def _unk(ctx: Ctx) -> Res:
    return ctx.cli("frobnicate", timeout=30)


@case("cli.analyze_conf_nan", "analyze --conf-level nan", "clean_error", (CE,), check=accepted, timeout=60)
def _conf_nan(ctx: Ctx) -> Res:
    ctx.fx.place_sweep(ctx)
    ctx.allow("sweep/analysis")
    return ctx.cli("analyze", "sweep", "--conf-level", "nan", timeout=60)


@case("cli.analyze_conf_1_5", "analyze --conf-level 1.5", "clean_error", (CE,), check=accepted, timeout=60)
def _conf_15(ctx: Ctx) -> Res:
    ctx.fx.place_sweep(ctx)
    ctx.allow("sweep/analysis")
    return ctx.cli("analyze", "sweep", "--conf-level", "1.5", timeout=60)


@case(
    "cli.analyze_kpi_unknown",
    "analyze --kpi nope",
    "clean_error: not in this sweep's KPI columns",
    (CE,),
    check=accepted,
    timeout=60,
)
def _an_kpi(ctx: Ctx) -> Res:
    ctx.fx.place_sweep(ctx)
    ctx.allow("sweep/analysis")
    return ctx.cli("analyze", "sweep", "--kpi", "nope", timeout=60)


@case(
    "cli.analyze_run_dir",
    "analyze of a run directory (not a sweep)",
    "clean_error: not a sweep directory",
    (CE,),
    check=accepted,
    timeout=60,
)
def _an_run(ctx: Ctx) -> Res:
    ctx.fx.place_run(ctx, "run")
    return ctx.cli("analyze", "run", timeout=60)


@case("cli.analyze_empty_dir", "analyze of an empty directory", "clean_error", (CE,), check=accepted, timeout=60)
def _an_empty(ctx: Ctx) -> Res:
    ctx.p("e").mkdir()
    return ctx.cli("analyze", "e", timeout=60)


# ---- dashboard -----------------------------------------------------------------------------


def listeners(port: int) -> list[str]:
    found = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(name).read_text().splitlines()[1:]
        except OSError:
            continue
        for ln in lines:
            parts = ln.split()
            local, state = parts[1], parts[3]
            addr, p = local.rsplit(":", 1)
            if state == "0A" and int(p, 16) == port:
                found.append(addr)
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dashboard(ctx: Ctx, args: list[str], port: int, bound: float, judge_listen) -> Res:
    before = set(listeners(port))
    proc = ctx.start(["dashboard", *args, "--port", str(port)])
    t0 = time.monotonic()
    while time.monotonic() - t0 < bound:
        if proc.poll() is not None:
            return ctx.finish(proc, 5)
        now = set(listeners(port)) - before
        if now:
            ctx.notes.append(f"listening on {sorted(now)}")
            res = ctx.finish(proc, 0.1)  # kills the group
            res.timed_out = False
            ctx.fail(*judge_listen(now))
            return res
        time.sleep(0.25)
    return ctx.finish(proc, 0.1)


@case(
    "dashboard.port_in_use",
    "dashboard on a port another process listens on",
    "clean_error: port in use (exit 2) within 45 s",
    (CE,),
    timeout=50,
)
def _dash_busy(ctx: Ctx) -> Res:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        return _dashboard(
            ctx, ["tiny.yaml"], port, 45, lambda now: ("silently_wrong", "a second listener on a busy port")
        )


@case(
    "dashboard.host_empty",
    "dashboard --host ''",
    "clean_error: an empty host is refused (it would bind every interface)",
    (CE,),
    timeout=50,
)
def _dash_host(ctx: Ctx) -> Res:
    port = free_port()

    def judge(now):
        wild = [a for a in now if set(a) <= {"0"}]
        return (
            ("silently_wrong", f"serving on every interface {sorted(now)}")
            if wild
            else ("handled", f"serving on {sorted(now)}")
        )

    return _dashboard(ctx, ["tiny.yaml", "--host", ""], port, 45, judge)


@case(
    "dashboard.too_big",
    "dashboard of a 30,000-person market",
    "clean_error: refuses above 20,000 people",
    (CE,),
    timeout=50,
)
def _dash_big(ctx: Ctx) -> Res:
    ctx.write("big.yaml", "extends: tiny.yaml\nmarket: {size: 30000}\n")
    return _dashboard(
        ctx, ["big.yaml"], free_port(), 45, lambda now: ("silently_wrong", "served a market above the limit")
    )


@case("dashboard.missing_scenario", "dashboard of a missing scenario", "clean_error", (CE,), timeout=50)
def _dash_missing(ctx: Ctx) -> Res:
    return _dashboard(ctx, ["nope.yaml"], free_port(), 45, lambda now: ("silently_wrong", "served a missing scenario"))


@case("dashboard.host_bogus", "dashboard --host 'not a host'", "clean_error: cannot bind", (CE,), timeout=50)
def _dash_bogus(ctx: Ctx) -> Res:
    return _dashboard(
        ctx,
        ["tiny.yaml", "--host", "not a host"],
        free_port(),
        45,
        lambda now: ("silently_wrong", "served on a bogus host"),
    )


# --- running the catalogue -------------------------------------------------------------------


@dataclass
class Outcome:
    id: str
    description: str
    expected: str
    expect: list[str]
    outcome: str
    clean: bool
    exit_code: int | None
    seconds: float
    note: str = ""
    stderr_tail: str = ""
    notes: list[str] = field(default_factory=list)


def classify(case: Case, ctx: Ctx, res: Res, lost: list[str], outside: list[str], left: list[str]) -> tuple[str, str]:
    text = res.text
    if res.timed_out:
        return "hung", f"killed after {case.timeout:.0f} s"
    if lost:
        return "data_lost", "; ".join(lost[:5])
    if "Traceback" in text or res.rc == 1 and (ctx.verdict is None or ctx.verdict[0] != CE):
        last = [ln for ln in res.err.strip().splitlines() if ln.strip() and not ln.startswith("unexpected error")]
        return "traceback", (last[-1][:200] if last else f"exit {res.rc}")
    if outside:
        base, why = classify(case, ctx, res, lost, [], left)
        if base == "hung":
            return base, why
        return "wrote_outside", "; ".join(outside[:5]) + f"; otherwise {base}" + (f" ({why})" if why else "")
    if left:
        return "hung", f"processes left behind: {left[:3]}"
    if ctx.verdict is not None:
        return ctx.verdict
    if res.rc == 0:
        if case.check is None:
            return (H, "") if H in case.expect else ("silently_wrong", "exit 0")
        ok, note = case.check(ctx, res)
        return (H, note) if ok else ("silently_wrong", note)
    if res.rc == 2 or (case.interrupt and res.rc in (130, 143)):
        if not has_error_line(res.err) and not (case.interrupt and res.rc in (130, 143)):
            return "other", f"exit {res.rc} without an error: line: {res.err.strip()[:150]!r}"
        if case.want and case.want.lower() not in res.err.lower():
            first = next((ln for ln in res.err.splitlines() if ln.strip()), "")
            return "other", f"error lacks {case.want!r}: {first[:160]}"
        return CE, ""
    if res.rc is not None and res.rc < 0:
        return "other", f"killed by signal {-res.rc}"
    return "other", f"exit {res.rc}"


def run_case(case: Case, base: Path, fx: Fixtures, keep: bool, cold_home: bool = False) -> Outcome:
    t0 = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix=case.id.replace("/", "_")[:60] + ".", dir=base))
    ctx = None
    try:
        warm = None if cold_home or case.cold_home else fx.warm_home()
        ctx = Ctx(root, fx, warm)
        before = snapshot(ctx.work) | snapshot(ctx.home)
        # what the case plants is snapshotted after the setup, inside fn; so snapshot lazily:
        orig_start = ctx.start
        state = {"before": None}

        def start(*a, **k):
            if state["before"] is None:
                state["before"] = snapshot(ctx.work) | snapshot(ctx.home)
            return orig_start(*a, **k)

        ctx.start = start  # type: ignore[method-assign]
        res = case.fn(ctx)
        before = state["before"] or before
        time.sleep(0.05)
        left_pids = token_pids(ctx.token)
        if left_pids:
            wait_for(lambda: not token_pids(ctx.token), 3.0)
            left_pids = token_pids(ctx.token)
        left = [f"{p} {proc_cmdline(p)}" for p in left_pids]
        kill_pids(left_pids)
        after = snapshot(ctx.work) | snapshot(ctx.home)
        lost, outside = diff_snapshots(ctx, before, after)
        outcome, note = classify(case, ctx, res, lost, outside, left)
        extra = []
        if outcome in ("wrote_outside", "data_lost") and res.rc == 0 and case.check is not None and ctx.verdict is None:
            try:
                ok, why = case.check(ctx, res)
                extra.append("result otherwise " + ("correct" if ok else f"wrong: {why}"))
            except Exception as exc:  # noqa: BLE001
                extra.append(f"result check failed: {exc}")
        if outcome not in ("data_lost",) and lost:
            extra.append(f"also lost: {lost[:3]}")
        if outcome not in ("wrote_outside",) and outside:
            extra.append(f"also outside: {outside[:3]}")
        tail = "\n".join(res.err.strip().splitlines()[-3:])[-400:]
        return Outcome(
            case.id,
            case.desc,
            case.expected,
            list(case.expect),
            outcome,
            outcome in case.expect,
            res.rc,
            round(time.monotonic() - t0, 2),
            "; ".join([note] + extra).strip("; "),
            tail,
            ctx.notes,
        )
    except Exception as exc:  # noqa: BLE001
        if ctx is not None:
            kill_pids(token_pids(ctx.token))
        tb = traceback.format_exc().strip().splitlines()
        return Outcome(
            case.id,
            case.desc,
            case.expected,
            list(case.expect),
            "harness_error",
            False,
            None,
            round(time.monotonic() - t0, 2),
            f"{type(exc).__name__}: {exc}"[:300],
            "\n".join(tb[-3:]),
        )
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        # started as a background job: the shell ignores SIGINT for it, and the commands would inherit that
        # (Python keeps an ignored SIGINT) and run through the Ctrl-C cases; they should see a terminal's Ctrl-C
        signal.signal(signal.SIGINT, signal.default_int_handler)
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--json", type=Path, help="write the results as JSON to this file")
    ap.add_argument("--only", action="append", default=[], help="run only cases whose id contains this (repeatable)")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    ap.add_argument("--keep", action="store_true", help="keep each case's temporary directory")
    ap.add_argument(
        "--cold-home",
        action="store_true",
        help="give every case an empty fake HOME (by default it holds a warm matplotlib cache)",
    )
    args = ap.parse_args(argv)
    ids = Counter(c.id for c in CASES)
    dup = [i for i, n in ids.items() if n > 1]
    if dup:
        print(f"warning: duplicate case ids {dup}", file=sys.stderr)
    cases = [c for c in CASES if not args.only or any(s in c.id for s in args.only)]
    if args.list:
        for c in cases:
            print(f"{c.id:48s} {'|'.join(c.expect):22s} {c.desc}")
        print(f"{len(cases)} cases")
        return 0
    base = Path(tempfile.mkdtemp(prefix="hostile-inputs."))
    fx = Fixtures(base / "_fixtures")
    results: list[Outcome] = []
    t_all = time.monotonic()
    print(f"{'case':52s} {'expected':22s} {'outcome':15s} {'secs':>6s}  note", flush=True)
    try:
        for c in cases:
            r = run_case(c, base, fx, args.keep, args.cold_home)
            results.append(r)
            mark = " " if r.clean else "!"
            print(
                f"{mark}{r.id:51s} {'|'.join(r.expect):22s} {r.outcome:15s} {r.seconds:6.1f}  {r.note[:110]}",
                flush=True,
            )
    except KeyboardInterrupt:
        print("interrupted: reporting the cases run so far", file=sys.stderr)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
        else:
            print(f"kept {base}", file=sys.stderr)
    total = time.monotonic() - t_all
    counts = Counter(r.outcome for r in results)
    print()
    print(
        f"{len(results)} cases in {total:.0f} s; clean {sum(r.clean for r in results)}, "
        f"not clean {sum(not r.clean for r in results)}"
    )
    for name in OUTCOMES:
        if counts.get(name):
            print(f"  {name:15s} {counts[name]:4d}")
    if args.json:
        payload = {
            "seconds": round(total, 1),
            "python": sys.version.split()[0],
            "totals": {k: counts.get(k, 0) for k in OUTCOMES},
            "clean": sum(r.clean for r in results),
            "not_clean": sum(not r.clean for r in results),
            "cases": [r.__dict__ for r in results],
        }
        args.json.write_text(json.dumps(payload, indent=1))
    return 0


if __name__ == "__main__":
    try:
        main()
    except Exception:  # noqa: BLE001 - the harness measures; it never fails the caller
        traceback.print_exc()
    sys.exit(0)
