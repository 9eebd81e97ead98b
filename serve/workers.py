"""Worker processes that tag batches in order, and stop at once on Ctrl-C or SIGTERM.

    >>> with OrderedWorkers(2, work=str.upper) as workers:
    ...     list(workers.imap(["a", "b", "c"]))
    ['A', 'B', 'C']

Why not `multiprocessing.Pool`: its `imap` feeds tasks from a background thread with no limit,
so the pipe to the workers is full whenever tagging runs; stopped then, `Pool.terminate` joins
that thread while it is blocked writing to workers it has just killed, and hangs for good
(seen under SIGTERM in 3 runs of 8). Here the calling thread does all the talking, at most
IN_FLIGHT tasks per worker, which a thread in the worker reads as they come (so a send never
waits on a busy worker); a result is read from the worker holding the oldest task (so results
come in order), and stopping kills the workers outright, with no thread of ours left to join.
A worker that dies mid-task is an error, not a hang.
"""

from __future__ import annotations

import multiprocessing
import queue
import signal
import threading
import traceback
from collections import deque
from typing import Callable, Iterable, Iterator

from vnzh_runtime.errors import UserError


class WorkerDied(UserError):
    """A worker gone mid-run (killed for memory, say): one line, naming how to see why."""


def _serve(connection, work: Callable, setup: Callable | None, setup_arg, inherited: list) -> None:
    # A worker dies at once on SIGTERM or SIGHUP (unless nohup ignores it) and leaves Ctrl-C to the parent,
    # which stops it; the parent's KeyboardInterrupt handlers, inherited, would print a traceback here.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for parents_end in inherited:  # forked copies of the parent's ends: held here, the parent's death would not read as EOF
        parents_end.close()
    if setup is not None:
        setup(setup_arg)
    inbox: queue.SimpleQueue = queue.SimpleQueue()
    threading.Thread(target=_read_tasks, args=(connection, inbox), daemon=True).start()
    try:
        while (task := inbox.get()) is not None:
            try:
                result = (True, work(task))
            except Exception as err:  # noqa: BLE001 - handed to the parent, which raises it
                err.add_note(traceback.format_exc())  # the worker's own traceback travels with it
                result = (False, err)
            connection.send(result)
    except OSError:  # the parent is gone: nothing left to do
        return


def _read_tasks(connection, inbox: queue.SimpleQueue) -> None:
    """A worker's tasks read as soon as they come, so a send from the parent never waits on a
    busy worker (no deadlock with that worker sending its result), and the next task is ready."""
    try:
        while (task := connection.recv()) is not None:
            inbox.put(task)
    except (EOFError, OSError):  # the parent is gone (its end closed or reset)
        pass
    inbox.put(None)


def start_method() -> str:
    """Fork shares the loaded model for free, but is only safe in a single-threaded process (a lock
    held by another thread stays held in the child); otherwise start clean workers."""
    methods = multiprocessing.get_all_start_methods()
    if threading.active_count() == 1 and "fork" in methods:
        return "fork"
    return "forkserver" if "forkserver" in methods else "spawn"


class OrderedWorkers:
    """`workers` processes running `work(task)`; `setup(setup_arg)` runs once in each first."""

    def __init__(self, workers: int, work: Callable, setup: Callable | None = None, setup_arg=None,
                 method: str | None = None):
        method = method or start_method()
        context = multiprocessing.get_context(method)
        self.connections, self.processes = [], []
        try:
            for _ in range(workers):
                ours, theirs = context.Pipe()
                inherited = [*self.connections, ours] if method == "fork" else []
                process = context.Process(target=_serve, args=(theirs, work, setup, setup_arg, inherited), daemon=True)
                process.start()
                theirs.close()  # only the worker holds its end: its death reads as EOF here
                self.connections.append(ours)
                self.processes.append(process)
        except BaseException:
            self.stop()
            raise

    def imap(self, tasks: Iterable) -> Iterator:
        """`work(task)` for each task, in order: IN_FLIGHT tasks per worker, results read from the
        worker holding the oldest, which gets its next task before the caller takes the result."""
        tasks, busy = iter(tasks), deque()
        for _ in range(IN_FLIGHT):
            for worker in range(len(self.processes)):
                if not self._give(worker, tasks, busy):
                    break
        while busy:
            worker = busy.popleft()
            ok, value = self._receive(worker)
            if not ok:
                raise value
            self._give(worker, tasks, busy)
            yield value

    def _give(self, worker: int, tasks: Iterator, busy: deque) -> bool:
        """Send `worker` the next task, if there is one."""
        task = next(tasks, _END)
        if task is _END:
            return False
        self._send(worker, task)
        busy.append(worker)
        return True

    def _send(self, worker: int, task) -> None:
        try:
            self.connections[worker].send(task)
        except (BrokenPipeError, ConnectionResetError):
            raise WorkerDied(self._died(worker)) from None

    def _receive(self, worker: int):
        try:
            return self.connections[worker].recv()
        except (EOFError, ConnectionResetError):
            raise WorkerDied(self._died(worker)) from None

    def _died(self, worker: int) -> str:
        process = self.processes[worker]
        process.join(1)
        return f"tagging worker {worker + 1} died (exit code {process.exitcode}); rerun with --workers 1 to see why"

    def stop(self, graceful: bool = False) -> None:
        """End the workers: asked to finish when `graceful` (a few seconds' grace), killed otherwise."""
        for connection, process in zip(self.connections, self.processes):
            if graceful and process.is_alive():
                try:
                    connection.send(None)
                except OSError:
                    pass
            else:
                process.kill()
        for connection, process in zip(self.connections, self.processes):
            process.join(5 if graceful else 1)
            if process.is_alive():
                process.kill()
                process.join(1)
            connection.close()

    def __enter__(self) -> "OrderedWorkers":
        return self

    def __exit__(self, kind, error, trace) -> None:
        self.stop(graceful=kind is None)


_END = object()
IN_FLIGHT = 2  # per worker: one computed, one waiting in its inbox
