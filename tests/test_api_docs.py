"""docs/api.md runs as written: every ```python block, in order, in one namespace, from a scratch directory."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "api.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def blocks() -> list[str]:
    return BLOCK.findall(DOC.read_text(encoding="utf-8"))


def test_doc_blocks_are_found_and_small():
    code = blocks()
    assert len(code) >= 8
    sizes = [int(n.replace("_", "")) for c in code for n in re.findall(r'"market\.size": ([0-9_]+)', c)]
    assert sizes and max(sizes) <= 5000  # the doc's runs stay small: the suite executes them
    assert all(int(n) <= 60 for c in code for n in re.findall(r"days=(\d+)", c))
    assert all(int(n) <= 2 for c in code for n in re.findall(r"replications=(\d+)", c))


def test_api_doc_executes(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # the doc's temporary files go with tmp_path
    namespace: dict = {"__name__": "api_doc"}
    for i, code in enumerate(blocks()):
        exec(compile(code, f"{DOC.name} block {i + 1}", "exec"), namespace)  # noqa: S102 - the doc's own code
    run, cmp = namespace["run"], namespace["cmp"]
    assert run.scenario.market.size == 5000 and len(run.timeseries) == 60
    assert isinstance(cmp.table, pd.DataFrame) and {"strategy", "kpi", "mean", "p_value"} <= set(cmp.table.columns)
    assert len(cmp.sentences) == 2 and "money" in cmp.sentences[0] and cmp.sentences[1].startswith("points_program")
    assert not (tmp_path / "results").exists()  # the doc saves into temporary directories only
    assert namespace["figure"].is_relative_to(tmp_path) and namespace["saved"].is_relative_to(tmp_path)
