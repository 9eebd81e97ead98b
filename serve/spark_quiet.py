"""What `serve spark` prints, and what it keeps quiet: Spark's INFO lines, pandas' and MLflow's
warnings, and the noise of an interrupted run (py4j's tracebacks of the calls a signal broke,
the stacks of killed tasks), so that a user reads one line for each thing that matters.

    >>> interrupt_quietly()   # SIGTERM now stops a run as Ctrl-C does: one line, exit 130
"""

from __future__ import annotations

import tempfile
from pathlib import Path


def quiet_log4j() -> Path:
    """A log4j2 configuration that prints only errors (Spark's default prints INFO/WARN lines at start)."""
    path = Path(tempfile.gettempdir()) / "vnzh-spark-log4j2.properties"
    if not path.is_file():
        path.write_text("rootLogger.level = error\nrootLogger.appenderRef.stderr.ref = console\n"
                        "appender.console.type = Console\nappender.console.name = console\n"
                        "appender.console.target = SYSTEM_ERR\nappender.console.layout.type = PatternLayout\n"
                        "appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n\n", encoding="utf-8")
    return path


def interrupt_quietly() -> None:
    """SIGTERM (`kill`, `timeout`) stops a run as Ctrl-C does, with one line and exit 130; and py4j,
    interrupted mid-command, logs each broken call with its traceback on the root logger: the one
    line says all of it."""
    import logging
    import signal

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    logging.getLogger().setLevel(logging.CRITICAL)
    logging.getLogger("py4j").setLevel(logging.CRITICAL)


def quiet_jvm(spark) -> None:
    """Stopping Spark under running tasks makes its executors log each killed task's stack: after
    the one line that says the run was interrupted, they are noise."""
    try:
        spark.sparkContext.setLogLevel("OFF")
        spark.sparkContext.cancelAllJobs()
    except Exception:  # noqa: BLE001 - a gateway the interrupt broke: Spark stops anyway
        pass


def stop_quietly(spark, owned: bool) -> None:
    """Stop a session an interrupt broke: a signal sent to the whole group (`timeout`, systemd) has
    killed the JVM too, and stopping then fails on a refused connection, after the one line."""
    try:
        if owned:
            spark.stop()
    except Exception:  # noqa: BLE001 - nothing is left to stop
        pass


def quiet_warnings() -> None:
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning, module=r"pyspark(\..*)?")
    warnings.filterwarnings("ignore", message="Cannot infer the eval type")
    warnings.filterwarnings("ignore", message=".*Add type hints to the `predict` method")
