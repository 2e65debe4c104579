"""Mesa's core loads without the rest of the package (and without reading the stack's source files), and the
rest still loads when asked for."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import sys
import sim.model
from sim.model import CommunityModel, mesa
heavy = ('mesa.batchrunner', 'mesa.space', 'mesa.experimental', 'networkx', 'scipy')
print(sorted(m for m in heavy if m in sys.modules))
import inspect, mesa.mesa_logging as logs  # its loggers are named as on a plain import, its inspect is restored
print(sorted(logs._module_loggers), logs.inspect is inspect)
assert issubclass(CommunityModel, mesa.Model)
import mesa as package
assert package is mesa
from mesa import batch_run
import mesa.space
print(package.__version__ > '3', callable(batch_run), package.space.NetworkGrid.__name__)
print(sorted(m for m in heavy[:3] if m in sys.modules))
"""


def test_model_imports_mesa_core_only_and_the_rest_on_demand():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    before, loggers, asked, after = out.stdout.splitlines()
    assert before == "[]"
    assert loggers == "['mesa.mesa_logging', 'mesa.model'] True"
    assert asked == "True True NetworkGrid"
    assert after == "['mesa.batchrunner', 'mesa.experimental', 'mesa.space']"
