"""``community-sim dashboard``: check the scenario, then hand the process over to the Solara server."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from sim.cli import UserError
from sim.dashboard.controls import check_small, load_base

APP_MODULE = "sim.app"
SCENARIO_ENV = "COMMUNITY_SIM_DASHBOARD_SCENARIO"
INSTALL_HINT = "the dashboard needs the optional extra: pip install 'community-sim[dashboard]'"


def solara_command(host: str, port: int) -> list[str]:
    """The command line of the Solara server for the dashboard page."""
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        APP_MODULE,
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--no-open",
        "--no-check-version",
        "--log-level",
        "warning",
    ]


def server_env(scenario: Path | None) -> dict[str, str]:
    """The server's environment: the scenario to start from; no telemetry, no hook lint of Mesa's code."""
    env = dict(os.environ)
    env[SCENARIO_ENV] = str(scenario.resolve()) if scenario else ""
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    env.setdefault("SOLARA_CHECK_HOOKS", "off")
    return env


def dashboard_command(scenario: Path | None, *, host: str, port: int) -> None:
    """Validate ``scenario`` (small enough, loads), then replace this process with the server."""
    if importlib.util.find_spec("solara") is None:
        raise UserError(INSTALL_HINT)
    data = load_base(scenario)  # a ScenarioError is reported by the CLI (exit 2)
    check_small(data, str(scenario) if scenario else "baseline")
    address = f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"
    print(f"community-sim dashboard: {data['name']} ({data['market']['size']:,} people)", flush=True)
    if port:
        print(f"open {address} in a browser; Ctrl-C stops the server", flush=True)
    command = solara_command(host, port)
    os.execve(command[0], command, server_env(scenario))
