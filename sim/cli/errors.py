"""How a command ends: the errors it reports without a traceback, and interruptions (Ctrl-C, SIGTERM).

Exit codes: 0 success; 2 bad input or usage (a clear message, nothing written);
1 an unexpected error (with a traceback, as it is a bug worth reporting); 130
interrupted by Ctrl-C, 143 by SIGTERM (every command takes SIGTERM as Ctrl-C).
"""

from __future__ import annotations

import contextlib
import functools
import signal
import threading


class UserError(Exception):
    """Bad input: reported without a traceback, exit code 2."""


class Interrupted(Exception):
    """Ctrl-C during a command (raised past the CLI library, which would swallow it)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, taken the path of Ctrl-C (so everything is cleaned up the same way), exit code 143."""


#: Exit code of a command stopped by SIGTERM (128 + 15, as the shell reports a process killed by it).
EXIT_TERMINATED = 143
EXIT_INTERRUPTED = 130


@contextlib.contextmanager
def sigterm_as_interrupt():
    """Within the block, SIGTERM raises ``Terminated`` (a ``KeyboardInterrupt``) in the main thread.

    A second SIGTERM while the first is being handled is ignored, so the clean-up finishes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Terminated

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def interruptible(func):
    """Turn KeyboardInterrupt into ``Interrupted`` so ``main`` can report it with exit code 130."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except KeyboardInterrupt as exc:
            raise Interrupted from exc

    return wrapper
