"""Ctrl-C and SIGTERM held back while a block that must not stop halfway runs (registering a model
version and moving its alias: a version without its alias, its run left RUNNING, is worse than a
second's wait).

    with signals_deferred():
        version = mlflow.register_model(uri, name).version
        client.set_registered_model_alias(name, alias, version)
"""

from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def signals_deferred():
    """Ctrl-C and SIGTERM wait until the block is done (they are delivered as it ends), in the main thread.
    Held by a handler, not a thread's signal mask: the kernel hands a process's signal to any thread that
    does not block it (MLflow's, a server's), and Python then runs the handler in the main thread anyway."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending = []
    previous = {signum: signal.signal(signum, lambda signum, frame: pending.append(signum))
                for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in pending:
            signal.raise_signal(signum)  # under the caller's own handlers, as if it came now
