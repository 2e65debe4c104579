"""Where chunks run: local worker processes (the default) or a Dask cluster.

Both take the same picklable function and arguments and yield ``(chunk index,
result)`` as chunks finish, so a sweep gives identical results on either, with
any number of workers. Nothing here changes global state: the local pool gets
an explicit multiprocessing context object (no ``set_start_method``), and Dask
is imported only when asked for.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

DASK_HINT = "the dask executor needs Dask distributed: install with pip install 'community-sim[distributed]'"


class ExecutorError(Exception):
    """The executor itself failed (a worker died, the scheduler is unreachable); finished chunks are kept."""


def default_workers() -> int:
    """CPUs this process may use."""
    if hasattr(os, "process_cpu_count"):
        return os.process_cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def default_context() -> multiprocessing.context.BaseContext:
    """``forkserver`` where the platform has it, else ``spawn``: never ``fork``.

    Forking a process that runs threads (the progress bar, the pool's own manager)
    can deadlock a child; forkserver children start from a clean single-threaded
    server. This returns a context object and leaves the global default alone.
    """
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


#: Thread pools of numerical libraries, limited to one thread in each worker (workers already fill the cores).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")
#: Times one chunk may exceed ``--chunk-timeout`` before the sweep gives up on it.
TIMEOUT_ATTEMPTS = 3


def _init_worker(parent: int) -> None:
    """Worker initializer: one core per worker, signals left to the sweep, and no life after the sweep's.

    Ctrl-C and SIGTERM are the parent's to handle (it stops the workers itself). The worker
    ends when the sweep process ``parent`` ends, however it ended (even SIGKILL).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for name in THREAD_VARIABLES:  # read when numpy loads its BLAS, which has not happened yet here
        os.environ[name] = "1"
    _end_with(parent)
    from sim.engine.process import prepare_process

    prepare_process(one_core=True)


def _end_with(parent: int) -> None:
    """End this process when process ``parent`` ends: a thread waits for it (a pidfd on Linux, else polls)."""
    if sys.platform == "linux":  # also SIGKILL when the process that forked this one (the forkserver) dies
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    try:
        fd = os.pidfd_open(parent)
    except (AttributeError, OSError):
        fd = None
    if fd is None:
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            os._exit(1)
        except OSError:
            pass

    def watch() -> None:
        if fd is not None:
            import select

            select.select([fd], [], [])  # readable once the process has ended
        else:
            while True:
                time.sleep(1.0)
                try:
                    os.kill(parent, 0)
                except ProcessLookupError:
                    break
                except OSError:
                    pass
        os._exit(1)

    threading.Thread(target=watch, name="end-with-sweep", daemon=True).start()


def _on_one_core(fn: Callable, plan: Any, chunk: Any) -> Any:
    """``fn(plan, chunk)`` with the model kept on one core (a Dask worker thread is one core)."""
    from sim.engine.process import prepare_process

    prepare_process(one_core=True)
    return fn(plan, chunk)


class SerialExecutor:
    """Runs chunks in this process, one after another (tests, debugging, overhead measurements)."""

    name = "serial"
    workers = 1

    def __enter__(self) -> SerialExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def map(self, fn: Callable, plan: Any, chunks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        for i, chunk in enumerate(chunks):
            yield i, fn(plan, chunk)


class LocalExecutor:
    """A pool of ``workers`` local processes (default: one per CPU).

    With ``chunk_timeout`` (seconds), a chunk still running after that long (a stopped or
    stuck worker) is run again on fresh workers: the pool is replaced, and the chunks that
    were running on it are submitted again.
    """

    name = "local"

    def __init__(
        self,
        workers: int | None = None,
        mp_context: multiprocessing.context.BaseContext | None = None,
        chunk_timeout: float | None = None,
    ):
        self.workers = workers or default_workers()
        self.mp_context = mp_context or default_context()
        self.chunk_timeout = chunk_timeout
        self.warnings: list[str] = []
        self._pool: ProcessPoolExecutor | None = None

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.workers, mp_context=self.mp_context, initializer=_init_worker, initargs=(os.getpid(),)
        )

    def __enter__(self) -> LocalExecutor:
        self._pool = self._start()
        return self

    def __exit__(self, exc_type: type | None, *exc: object) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if exc_type is not None:  # interrupted or failed: stop running chunks now, drop queued ones
            _kill(pool)
        pool.shutdown(wait=True, cancel_futures=True)

    def map(self, fn: Callable, plan: Any, chunks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        assert self._pool is not None, "use LocalExecutor as a context manager"
        # Keep a bounded number of chunks in flight, so a huge sweep does not pickle every task up front.
        # With a time limit, no more than one per worker, so a submitted chunk starts at once.
        limit = self.workers if self.chunk_timeout else 4 * self.workers
        pending: dict[Future, tuple[int, float]] = {}
        queue = iter(enumerate(chunks))
        timeouts: dict[int, int] = {}

        def submit(i: int) -> None:
            pending[self._pool.submit(fn, plan, chunks[i])] = (i, time.monotonic())

        try:
            for i, _ in queue:
                submit(i)
                if len(pending) >= limit:
                    break
            while pending:
                wait_for = None
                if self.chunk_timeout:
                    oldest = min(started for _, started in pending.values())
                    wait_for = max(0.0, oldest + self.chunk_timeout - time.monotonic())
                done, _ = wait(pending, timeout=wait_for, return_when=FIRST_COMPLETED)
                if not done:
                    self._restart(pending, timeouts, submit)
                    continue
                for fut in done:
                    i, _ = pending.pop(fut)
                    yield i, fut.result()
                    nxt = next(queue, None)
                    if nxt is not None:
                        submit(nxt[0])
        except BrokenProcessPool:
            raise ExecutorError(
                "a worker process died (out of memory, or killed); finished chunks are saved: "
                "rerun the same command to resume"
            ) from None

    def _restart(self, pending: dict, timeouts: dict[int, int], submit: Callable[[int], None]) -> None:
        """Replace the pool after a chunk overran the time limit; submit again every chunk that was running."""
        now = time.monotonic()
        late = sorted(i for i, started in pending.values() if now - started >= self.chunk_timeout)
        for i in late:
            timeouts[i] = timeouts.get(i, 0) + 1
            if timeouts[i] >= TIMEOUT_ATTEMPTS:
                raise ExecutorError(
                    f"chunk {i} ran longer than --chunk-timeout {self.chunk_timeout:g} s {TIMEOUT_ATTEMPTS} times; "
                    "finished chunks are saved: raise the limit (or use smaller chunks) and rerun to resume"
                )
        self.warnings.append(
            f"chunk(s) {', '.join(map(str, late))} ran longer than --chunk-timeout {self.chunk_timeout:g} s "
            "and were run again on fresh workers"
        )
        running = sorted(i for i, _ in pending.values())
        pending.clear()
        old, self._pool = self._pool, None
        _kill(old)
        old.shutdown(wait=True, cancel_futures=True)
        self._pool = self._start()
        for i in running:
            submit(i)


def _kill(pool: ProcessPoolExecutor) -> None:
    """SIGKILL the pool's workers (a stopped worker ignores everything else until continued)."""
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        with contextlib.suppress(Exception):
            proc.kill()


class DaskExecutor:
    """Chunks as Dask tasks: on the scheduler at ``address``, or on a LocalCluster started for the sweep."""

    name = "dask"

    def __init__(self, workers: int | None = None, address: str | None = None):
        self.address = address
        self.workers = workers
        self._client = self._cluster = None

    def __enter__(self) -> DaskExecutor:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ExecutorError(DASK_HINT) from None
        try:
            if self.address:
                self._client = Client(self.address, timeout="20s")
            else:
                self._cluster = LocalCluster(
                    n_workers=self.workers or default_workers(),
                    threads_per_worker=1,
                    processes=True,
                    # No dashboard, and the scheduler's HTTP endpoints (which it serves even without
                    # a dashboard, on 8787 by default) on a free port of this machine only.
                    dashboard_address=None,
                    scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
                )
                self._client = Client(self._cluster)
        except OSError as exc:
            self.__exit__(None)
            raise ExecutorError(f"cannot reach the Dask scheduler at {self.address}: {exc}") from None
        if self.workers is None:
            self.workers = max(1, len(self._client.scheduler_info().get("workers", {})))
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None

    @property
    def dashboard(self) -> str | None:
        return getattr(self._client, "dashboard_link", None) if self.address else None

    def map(self, fn: Callable, plan: Any, chunks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        from distributed import as_completed
        from distributed.client import FutureCancelledError

        assert self._client is not None, "use DaskExecutor as a context manager"
        # The plan is a task rather than scattered data: if every worker holding it dies, Dask
        # recomputes it, where scattered data would be lost and the sweep's tasks cancelled.
        plan_future = self._client.submit(_run_plan, plan, pure=False)
        futures = [self._client.submit(_on_one_core, fn, plan_future, chunk, pure=False) for chunk in chunks]
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for fut in as_completed(futures):
                try:
                    yield index[fut.key], fut.result()
                except FutureCancelledError:
                    raise ExecutorError("the Dask scheduler cancelled the sweep's tasks") from None
                except Exception as exc:
                    if type(exc).__name__ == "KilledWorker":
                        raise ExecutorError(
                            f"Dask workers died running a chunk ({exc}); finished chunks are saved: rerun to resume"
                        ) from None
                    raise
        finally:
            self._client.cancel([f for f in futures if not f.done()])


def _run_plan(plan: Any) -> Any:
    """The sweep's plan, as the result of a Dask task (so Dask can recompute it)."""
    return plan


def make_executor(kind: str, workers: int | None = None, scheduler: str | None = None, chunk_timeout=None):
    """The executor named ``kind`` ("local", "dask" or "serial"); ``chunk_timeout`` is the local pool's."""
    if kind == "local":
        return LocalExecutor(workers, chunk_timeout=chunk_timeout)
    if kind == "dask":
        return DaskExecutor(workers, scheduler)
    if kind == "serial":
        return SerialExecutor()
    raise ValueError(f"unknown executor {kind!r}; use local or dask")


def run_in_order(
    fn: Callable,
    plan: Any,
    tasks: Sequence[Any],
    executor: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Any]:
    """``fn(plan, task)`` of every task on the executor named ``executor``, in the tasks' order whatever order
    they finish in; ``progress(done, total)`` after each."""
    found: dict[int, Any] = {}
    with make_executor(executor, workers, scheduler) as ex:
        for done, (k, result) in enumerate(ex.map(fn, plan, tasks), 1):
            found[k] = result
            if progress:
                progress(done, len(tasks))
    return [found[k] for k in range(len(tasks))]
