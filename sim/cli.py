"""The ``community-sim`` command line.

Exit codes: 0 success; 2 bad input or usage (a clear message, nothing written);
1 an unexpected error (with a traceback, as it is a bug worth reporting).
"""

from __future__ import annotations

import functools
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from sim.atomic import OutputError
from sim.config.errors import ScenarioError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Simulate brand and live-commerce user communities under different operating strategies.",
)
err = Console(stderr=True, highlight=False)


class UserError(Exception):
    """Bad input: reported without a traceback, exit code 2."""


@app.callback()
def _root() -> None:
    """community-sim: compare community strategies before rolling them out."""


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    seed: Annotated[int | None, typer.Option(help="Seed (overrides the scenario's).", min=0)] = None,
    days: Annotated[int | None, typer.Option(help="Days to simulate (overrides the scenario's).", min=1)] = None,
    out: Annotated[Path | None, typer.Option(help="Run directory; must not exist or be empty.")] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a key: --set referral.reward_inviter=20")
    ] = None,
    results: Annotated[Path, typer.Option(help="Results root for the default run directory.")] = Path("results"),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or table.")] = False,
) -> None:
    """Run one scenario and write its run directory."""
    from sim.cli_run import run_command

    interruptible(run_command)(
        scenario, seed=seed, days=days, out=out, overrides=set_ or [], results=results, quiet=quiet
    )


class Interrupted(Exception):
    """Ctrl-C during a command (raised past the CLI library, which would swallow it)."""


def interruptible(func):
    """Turn KeyboardInterrupt into ``Interrupted`` so ``main`` can report it with exit code 130."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except KeyboardInterrupt as exc:
            raise Interrupted from exc

    return wrapper


def main(argv: list[str] | None = None) -> int:
    """Entry point: map errors to exit codes (usage errors are reported by the CLI library, code 2)."""
    try:
        app(args=argv, prog_name="community-sim")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except (ScenarioError, OutputError, UserError) as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return 2
    except Interrupted:
        err.print("interrupted; nothing was written")
        return 130
    except Exception:
        traceback.print_exc()
        err.print("unexpected error: this is a bug; please report it with the traceback above")
        return 1
    return 0


def entry() -> None:
    """Console-script entry."""
    sys.exit(main())
