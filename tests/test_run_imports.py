"""The command line's cheaper imports for a run (``sim.cli.run_imports``): same files, collector restored,
matplotlib's artists still set up, and the saving still there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
SMOKE = str(ROOT / "scenarios" / "smoke.yaml")
ARGS = ["run", SMOKE, "--days", "12", "--set", "market.size=300", "--quiet"]


def _python(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_entry_point_writes_the_same_files_as_plain_imports(tmp_path):
    """``python -m sim`` (the entry point: cheaper imports) and ``main()`` called in this process
    (plain imports) write the same bytes, figures and report included."""
    cheap, plain = tmp_path / "entry", tmp_path / "plain"
    res = _python("-m", "sim", *ARGS, "--out", str(cheap))
    assert res.returncode == 0, res.stderr
    assert main([*ARGS, "--out", str(plain)]) == 0
    files = sorted(p.relative_to(cheap) for p in cheap.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(plain) for p in plain.rglob("*") if p.is_file())
    assert len([f for f in files if f.suffix == ".png"]) == 7
    for f in files:
        if f.name != "manifest.json":  # the start time and the wall seconds differ
            assert (cheap / f).read_bytes() == (plain / f).read_bytes(), f


def test_import_for_run_restores_the_collector_and_matplotlibs_help():
    """After ``import_for_run``: the collector runs again, with the imported modules frozen; ``set()``
    of an artist imported meanwhile has no generated help (the saving: fails if matplotlib renames
    what is patched) but takes the same keywords, and a class defined afterwards gets its help."""
    probe = (
        "import gc, inspect\n"
        "from sim.cli import run_imports\n"
        "run_imports.own_process = True\n"
        "from sim.config.schema import Scenario\n"
        "run_imports.import_for_run(Scenario.model_validate({'name': 'probe', 'output': {'plots': True}}))\n"
        "from matplotlib.lines import Line2D\n"
        "from matplotlib.artist import Artist\n"
        "line = Line2D([0, 1], [0, 1]); line.set(linewidth=3, color='red')\n"
        "class Later(Line2D): pass\n"
        "print(gc.isenabled(), gc.get_freeze_count() > 10000, Line2D.set.__doc__ is None)\n"
        "print(line.get_linewidth(), line.get_color())\n"
        "print('linewidth' in inspect.signature(Later.set).parameters, 'linewidth' in Later.set.__doc__)\n"
        "print(Artist._update_set_signature_and_docstring.__func__.__name__)\n"
    )
    res = _python("-c", probe)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == [
        "True",
        "True",
        "True",
        "3.0",
        "red",
        "True",
        "True",
        "_update_set_signature_and_docstring",
    ]


def test_a_run_that_cannot_fit_stops_before_matplotlib_is_imported():
    """The memory check comes before the figure modules, which would take their share of a small
    address-space limit first (and make a C library print its own failure before the clear line)."""
    probe = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))\n"
        "from sim.cli import run_imports\n"
        "from sim.config.schema import Scenario\n"
        "from sim.engine.memory import NotEnoughMemory\n"
        "run_imports.own_process = True\n"
        "too_big = Scenario.model_validate({'name': 'probe', 'market': {'size': 50_000_000}})\n"
        "try:\n"
        "    run_imports.import_for_run(too_big)\n"
        "except NotEnoughMemory as exc:\n"
        "    print('refused', 'matplotlib' in sys.modules, str(exc).startswith('not enough memory for'))\n"
    )
    res = _python("-c", probe)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["refused", "False", "True"]
