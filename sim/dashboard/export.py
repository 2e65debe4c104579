"""Export the dashboard's scenario as a YAML file that ``community-sim run`` accepts unchanged."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from sim.config.base import dir_name
from sim.config.schema import Scenario
from sim.run.atomic import OutputError, write_text_new


class _Dumper(yaml.SafeDumper):
    """Block style, except that mappings and lists of plain values stay on one line."""


def _flow_if_flat(dumper: yaml.SafeDumper, value: Any, represent) -> Any:
    node = represent(dumper, value)
    items = value.values() if isinstance(value, dict) else value
    node.flow_style = bool(value) and all(not isinstance(v, dict | list) for v in items) and len(items) <= 8
    return node


_Dumper.add_representer(dict, lambda d, v: _flow_if_flat(d, v, yaml.SafeDumper.represent_dict))
_Dumper.add_representer(list, lambda d, v: _flow_if_flat(d, v, yaml.SafeDumper.represent_list))


def changes_note(live_changes: Sequence[Mapping[str, Any]]) -> str:
    """Comment lines naming the settings changed during the run (a scenario cannot schedule such changes)."""
    if not live_changes:
        return ""
    days = "\n".join(f"#   day {c['day']}: {c['label']}" for c in live_changes)
    return (
        "# Settings changed during the dashboard's run are not in this file: it holds the settings in force\n"
        "# at export, from day 0 (a scenario cannot schedule setting changes). The run started with other\n"
        f"# settings and changed them from these days on:\n{days}\n"
    )


def scenario_yaml(scenario: Scenario, note: str = "", live_changes: Sequence[Mapping[str, Any]] = ()) -> str:
    """The full resolved scenario as compact YAML (no ``extends``), with a comment header."""
    body = yaml.dump(scenario.model_dump(mode="json"), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)
    header = (f"# {note}\n" if note else "") + changes_note(live_changes)
    return f"{header}# Every key is written out: run it as is with `community-sim run <this file>`.\n{body}"


def default_path(scenario: Scenario, now: datetime.datetime | None = None) -> Path:
    """``results/dashboard/<name>-<UTC timestamp>.yaml``."""
    stamp = (now or datetime.datetime.now(datetime.UTC)).strftime("%Y%m%dT%H%M%SZ")
    return Path("results") / "dashboard" / f"{dir_name(scenario.name)}-{stamp}.yaml"


def export_scenario(scenario: Scenario, path: str | Path, live_changes: Sequence[Mapping[str, Any]] = ()) -> Path:
    """Write ``scenario`` to the new file ``path`` atomically (parent directories created) and return the path.

    ``live_changes`` (the dashboard model's) are named in the header. An existing file is never replaced
    (``ValueError``).
    """
    path = Path(path).expanduser()
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise ValueError(f"{path}: the file name must end in .yaml or .yml")
    if path.is_dir():
        raise ValueError(f"{path} is a directory; give a file name ending in .yaml")
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    try:
        write_text_new(
            path, scenario_yaml(scenario, f"Exported from the community-sim dashboard on {stamp}.", live_changes)
        )
    except OutputError as exc:
        raise ValueError(str(exc).replace("--out", "file name")) from None
    return path
