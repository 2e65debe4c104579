"""The ``community-sim`` command line.

Exit codes: 0 success; 2 bad input or usage (a clear message, nothing written);
1 an unexpected error (with a traceback, as it is a bug worth reporting); 130
interrupted by Ctrl-C, 143 by SIGTERM (every command takes SIGTERM as Ctrl-C).
"""

from __future__ import annotations

import contextlib
import errno
import gc
import os
import sys
import traceback
import warnings

from rich.markup import escape

from sim.cli.commands import app  # every command registers itself on import
from sim.cli.errors import (
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    Interrupted,
    Terminated,
    UserError,
    sigterm_as_interrupt,
)
from sim.cli.output import GuardedOutput, err, use_private_matplotlib_dir
from sim.config.errors import ScenarioError, ScenarioWarning
from sim.engine.memory import NotEnoughMemory
from sim.run.atomic import OutputError


def main(argv: list[str] | None = None) -> int:
    """Entry point: map errors to exit codes (usage errors are reported by the CLI library, code 2)."""
    use_private_matplotlib_dir()
    if isinstance(sys.stdout, GuardedOutput):  # main called inside main (tests, threads): guarded already
        return _main(argv)
    out = GuardedOutput(sys.stdout)
    sys.stdout = out
    try:
        code = _main(argv)
    finally:
        out.flush()
        if sys.stdout is out:
            sys.stdout = out.stream
    if out.error is not None and not isinstance(out.error, BrokenPipeError):  # a reader gone (| head) is normal
        reason = out.error.strerror or type(out.error).__name__
        done = "; the command itself finished" if code == 0 else ""
        with contextlib.suppress(OSError, ValueError):
            err.print(
                f"[yellow]warning:[/] could not write to standard output ({escape(reason)}){done}", soft_wrap=True
            )
    return code


def _main(argv: list[str] | None) -> int:
    try:
        os.getcwd()
    except FileNotFoundError:  # every relative path (and --out's default) would fail later, with a traceback
        err.print(
            "[bold red]error:[/] the working directory no longer exists (it was deleted or moved); "
            "change to an existing directory and run again",
            soft_wrap=True,
        )
        return 2
    try:
        with warnings.catch_warnings(), sigterm_as_interrupt():  # every command takes SIGTERM as Ctrl-C
            warnings.simplefilter("always", ScenarioWarning)
            warnings.showwarning = _show_warning
            app(args=argv, prog_name="community-sim")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except (ScenarioError, OutputError, UserError) as exc:
        with contextlib.suppress(OSError, ValueError):  # stderr itself may be unwritable
            err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return 2
    except Interrupted as exc:
        terminated = isinstance(exc.__cause__, Terminated)
        with contextlib.suppress(OSError, ValueError):
            err.print(f"{'terminated (SIGTERM)' if terminated else 'interrupted'}; nothing was written")
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    except Exception as exc:
        with contextlib.suppress(OSError, ValueError):  # stderr itself may be unwritable
            if _is_out_of_memory(exc):  # refused before building (NotEnoughMemory), or an allocation that failed
                message = str(exc) if isinstance(exc, NotEnoughMemory) else _out_of_memory(exc)
                err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
                return 2
            if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
                err.print(f"[bold red]error:[/] {escape(_out_of_disk(exc))}", soft_wrap=True)
                return 2
            traceback.print_exc()
            err.print("unexpected error: this is a bug; please report it with the traceback above")
        return 1
    return 0


def _is_out_of_memory(exc: BaseException) -> bool:
    """A MemoryError, or an import or system call that failed for want of memory (e.g. under ``ulimit -v``)."""
    if isinstance(exc, MemoryError):
        return True
    if not isinstance(exc, (ImportError, OSError)):
        return False
    text = str(exc)
    return getattr(exc, "errno", None) == errno.ENOMEM or any(
        sign in text for sign in ("failed to map segment", "Cannot allocate memory", "cannot allocate memory")
    )


def _out_of_memory(exc: BaseException) -> str:
    what = str(exc).strip() or "the process ran out of memory"
    return (
        f"not enough memory for this command ({what}); nothing was kept; free some memory, "
        "raise the limit (ulimit -v), or make market.size smaller"
    )


def _out_of_disk(exc: OSError) -> str:
    where = f" ({exc.filename})" if exc.filename else ""
    return (
        f"no space left on the disk{where}: {exc.strerror or exc}. Free some space and run the command again; "
        "a long run of a large market also writes its event log to the temporary directory (TMPDIR) as it "
        "goes: set TMPDIR to a larger disk, or output.events: false"
    )


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A scenario warning as one ``warning:`` line; any other warning as Python prints it."""
    if issubclass(category, ScenarioWarning):
        err.print(f"[bold yellow]warning:[/] {escape(str(message))}", soft_wrap=True)
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def entry() -> None:
    """Console-script entry."""
    from sim.cli import run_imports
    from sim.engine.process import prepare_process

    prepare_process()
    run_imports.own_process = True  # the process ends with the command
    code = main()
    # Everything is written and closed by now. Freezing the collector's objects spares the
    # interpreter's last collections over every imported module at exit (about 0.3 s with
    # Mesa, pandas and SciPy loaded: a tenth of a small run's wall time).
    gc.freeze()
    sys.exit(code)
