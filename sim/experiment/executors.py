"""Where chunks run: local worker processes (the default) or a Dask cluster.

Both take the same picklable function and arguments and yield ``(chunk index,
result)`` as chunks finish, so a sweep gives identical results on either, with
any number of workers. Nothing here changes global state: the local pool gets
an explicit multiprocessing context object (no ``set_start_method``), and Dask
is imported only when asked for.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
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


def _ignore_sigint() -> None:
    """Worker initializer: Ctrl-C is the parent's to handle (it stops the workers itself)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


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
    """A pool of ``workers`` local processes (default: one per CPU)."""

    name = "local"

    def __init__(self, workers: int | None = None, mp_context: multiprocessing.context.BaseContext | None = None):
        self.workers = workers or default_workers()
        self.mp_context = mp_context or default_context()
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> LocalExecutor:
        self._pool = ProcessPoolExecutor(self.workers, mp_context=self.mp_context, initializer=_ignore_sigint)
        return self

    def __exit__(self, exc_type: type | None, *exc: object) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if exc_type is not None:  # interrupted or failed: stop running chunks now, drop queued ones
            terminate = getattr(pool, "terminate_workers", None)  # Python 3.14+
            if terminate is not None:
                terminate()
            else:
                for proc in list(getattr(pool, "_processes", {}).values()):
                    proc.terminate()
        pool.shutdown(wait=True, cancel_futures=True)

    def map(self, fn: Callable, plan: Any, chunks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        assert self._pool is not None, "use LocalExecutor as a context manager"
        # Keep a bounded number of chunks in flight, so a huge sweep does not pickle every task up front.
        pending: dict[Future, int] = {}
        queue = iter(enumerate(chunks))
        try:
            for i, chunk in queue:
                pending[self._pool.submit(fn, plan, chunk)] = i
                if len(pending) >= 4 * self.workers:
                    break
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield pending.pop(fut), fut.result()
                    nxt = next(queue, None)
                    if nxt is not None:
                        pending[self._pool.submit(fn, plan, nxt[1])] = nxt[0]
        except BrokenProcessPool:
            raise ExecutorError(
                "a worker process died (out of memory, or killed); finished chunks are saved: "
                "rerun the same command to resume"
            ) from None


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
                    dashboard_address=None,
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
        futures = [self._client.submit(fn, plan_future, chunk, pure=False) for chunk in chunks]
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


def make_executor(kind: str, workers: int | None = None, scheduler: str | None = None):
    """The executor named ``kind`` ("local", "dask" or "serial")."""
    if kind == "local":
        return LocalExecutor(workers)
    if kind == "dask":
        return DaskExecutor(workers, scheduler)
    if kind == "serial":
        return SerialExecutor()
    raise ValueError(f"unknown executor {kind!r}; use local or dask")
