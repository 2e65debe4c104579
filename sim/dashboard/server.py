"""``community-sim dashboard``: check the scenario, then hand the process over to the Solara server."""

from __future__ import annotations

import errno
import importlib.util
import ipaddress
import os
import socket
import sys
from pathlib import Path

from rich.markup import escape

from sim.cli.errors import UserError
from sim.cli.output import err
from sim.dashboard.controls import check_small, load_base

APP_MODULE = "sim.dashboard.app"
SCENARIO_ENV = "COMMUNITY_SIM_DASHBOARD_SCENARIO"
COOKIE_WARNING = "Cookies with samesite=none require https"
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
    """The server's environment: the scenario to start from; no telemetry, no hook lint of Mesa's code, no
    cookie warning per page load."""
    env = dict(os.environ)
    env[SCENARIO_ENV] = str(scenario.resolve()) if scenario else ""
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    # Solara warns on every page load over plain http that its session cookie falls back to samesite=lax
    # (13 lines each time); expected on this machine's own address, so that one warning is filtered.
    quiet = f"ignore:{COOKIE_WARNING}:UserWarning"
    env["PYTHONWARNINGS"] = ",".join(w for w in (env.get("PYTHONWARNINGS", ""), quiet) if w)
    env.setdefault("SOLARA_CHECK_HOOKS", "off")
    return env


def check_address(host: str, port: int) -> bool:
    """Refuse an empty host, an unknown one or a port in use; True if ``host`` is this machine only (loopback)."""
    if not host.strip():
        raise UserError("--host is empty; give an address: 127.0.0.1 (the default) serves this machine only")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise UserError(f"--host {host}: not an address of this machine ({exc})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:  # the server binds it the same way, a moment later
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UserError(
                    f"cannot serve the dashboard on {host} port {port}: the port is in use; "
                    "choose another --port (0: any free port)"
                ) from None
            raise UserError(f"cannot serve the dashboard on {host} port {port}: {exc.strerror or exc}") from None
    return all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in infos)


def dashboard_command(scenario: Path | None, *, host: str, port: int) -> None:
    """Validate ``scenario`` (small enough, loads) and the address, then replace this process with the server."""
    if importlib.util.find_spec("solara") is None:
        raise UserError(INSTALL_HINT)
    data = load_base(scenario)  # a ScenarioError is reported by the CLI (exit 2)
    check_small(data, str(scenario) if scenario else "baseline")
    if not check_address(host, port):
        err.print(
            f"[bold yellow]warning:[/] --host {escape(host)} serves the dashboard beyond this machine: "
            "anyone who can reach it on the network can use it",
            soft_wrap=True,
        )
    address = f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"
    print(f"community-sim dashboard: {data['name']} ({data['market']['size']:,} people)", flush=True)
    if port:
        print(f"open {address} in a browser; Ctrl-C stops the server", flush=True)
    command = solara_command(host, port)
    os.execve(command[0], command, server_env(scenario))
