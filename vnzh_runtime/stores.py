"""Where MLflow keeps runs and models (`MLFLOW_TRACKING_URI`), and why a store cannot be used, told
in one line within seconds: MLflow itself answers a wrong, locked, silent or driverless store with a
traceback deep in SQLAlchemy, or after minutes of retries, or after the work is done:

    error: MLFLOW_TRACKING_URI=postgresql://me:***@db/mlflow: the database does not answer (...); start it or fix the address

Messages show a store through `shown_store`, its password masked.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from vnzh_runtime.errors import UserError

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
API_SECONDS = 10  # one API call after /health: a store down behind the server answers 500 after its own retries
LOGGED_MODEL_ID = re.compile(r"m-[0-9a-f]{32}")  # MLflow 3's models:/m-<id>: a logged model, no registry


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def shown_store(uri: str) -> str:
    """A store's URI as a message or a log may show it: its password (in the user part or the query) masked.

    >>> shown_store("postgresql://me:p/s@ss@db:5432/mlflow?password=x&sslmode=require")
    'postgresql://me:***@db:5432/mlflow?password=***&sslmode=require'
    >>> shown_store("postgresql://me:s3cr?t@db/mlflow")
    'postgresql://me:***@db/mlflow'
    """
    if "://" not in uri:
        return uri
    scheme, user, place, query = uri_parts(uri)
    user = f"{user.partition(':')[0]}:***@" if ":" in user else f"{user}@" if user else ""
    query = re.sub(r"((?:^|&)(?:password|passwd|pwd|token)=)[^&]*", r"\1***", query, flags=re.IGNORECASE)
    return f"{scheme}://{user}{place}" + (f"?{query}" if query else "")


def uri_parts(uri: str) -> tuple[str, str, str, str]:
    """(scheme, user part or "", host and path, query or "") of a `scheme://` URI: the user part ends at
    the last "@" before the query, since a password may hold "/" or "@"."""
    scheme, rest = uri.split("://", 1)
    base, _, query = rest.partition("?")
    if "@" not in base and "/" not in base and "@" in query:  # a "?" in the password: the user part runs to the last "@"
        user, _, after = rest.rpartition("@")
        place, _, query = after.partition("?")
        return scheme, user, place, query
    user, _, place = base.rpartition("@")
    return scheme, user, place, query


def sqlite_path(store: str) -> Path | None:
    """The database file of a `sqlite:///` store, or None for any other store."""
    return Path(store.removeprefix("sqlite:///").partition("?")[0]) if store.startswith("sqlite:///") else None  # ?timeout=60


def store_to_read(uri: str) -> str:
    """The tracking store to load `uri` from, once it is one MLflow can read: one line otherwise."""
    store = tracking_uri()
    problem = store_problem(store) or server_problem(store)
    if problem:
        raise UserError(f"{uri}: {problem}")
    path = sqlite_path(store)
    if path is not None and not path.is_file():
        # MLflow would create an empty database here; say where it looked instead.
        raise UserError(f"{uri}: no MLflow store at {shown_store(store)} (fix: run from the project root, or set MLFLOW_TRACKING_URI)")
    return store


def server_problem(store: str) -> str | None:
    """Why an http(s) tracking server or a PostgreSQL/MySQL database cannot be used, in one line, within
    seconds (MLflow itself retries for minutes, then blames the model's name); None for any other store,
    or one that answers."""
    if store.startswith(("postgresql", "mysql")):
        return database_problem(store)
    if store.startswith("databricks"):
        return databricks_problem(store)
    if not store.startswith(("http://", "https://")):
        return None
    import urllib.request

    scheme, _, place, _ = uri_parts(store)
    address, context = f"{scheme}://{place}", tls_context()  # user:password@ is no part of the host to ask
    try:
        urllib.request.urlopen(address.rstrip("/") + "/health", timeout=5, context=context).read()
    except OSError as err:
        return (f"MLFLOW_TRACKING_URI={shown_store(store)}: the tracking server does not answer ({getattr(err, 'reason', err)}); "
                "start it or fix the address")
    return store_behind_server_problem(store, address, context)


def store_behind_server_problem(store: str, address: str, context) -> str | None:
    """A server whose /health answers while its database is down answers every API call with a 500 after
    its own retries, and MLflow's client retries that for minutes in silence: one call, 10 s at most."""
    import urllib.error
    import urllib.request

    try:
        urllib.request.urlopen(address.rstrip("/") + "/api/2.0/mlflow/experiments/get-by-name?experiment_name=Default",
                               timeout=API_SECONDS, context=context).read()
    except urllib.error.HTTPError as err:
        if err.code < 500:  # no such experiment, or a login this check does not send: the store answered
            return None
        return (f"MLFLOW_TRACKING_URI={shown_store(store)}: the tracking server answers but its store does not (HTTP "
                f"{err.code}); check the database behind the server (mlflow server --backend-store-uri)")
    except OSError as err:
        if not isinstance(getattr(err, "reason", err), TimeoutError):  # /health answered: MLflow says the rest
            return None
        # slow, not down: a paused database may be waking, and MLflow retries
        print(f"note: MLFLOW_TRACKING_URI={shown_store(store)}: the tracking server took over {API_SECONDS} s to answer "
              f"({getattr(err, 'reason', err)}); its database may be down or waking, and MLflow goes on retrying",
              file=sys.stderr)
    return None


def tls_context():
    """The TLS settings MLflow's own client takes from its environment, for this module's checks."""
    import ssl

    if os.environ.get("MLFLOW_TRACKING_INSECURE_TLS", "").lower() == "true":
        return ssl._create_unverified_context()  # noqa: S323 - the user asked for it, as MLflow reads it
    certificates = os.environ.get("MLFLOW_TRACKING_SERVER_CERT_PATH") or None  # a file or, as requests takes it, a folder
    if certificates and os.path.isdir(certificates):
        return ssl.create_default_context(capath=certificates)
    return ssl.create_default_context(cafile=certificates)


def databricks_problem(store: str) -> str | None:
    """Databricks without credentials: MLflow found out only when logging, after the training (a traceback)."""
    import logging

    from mlflow.utils.databricks_utils import get_databricks_host_creds

    logger = logging.getLogger("mlflow.utils.databricks_utils")
    level = logger.level
    logger.setLevel(logging.ERROR)  # its "falling back to legacy authentication" warning
    try:
        get_databricks_host_creds(store)
    except Exception as err:  # noqa: BLE001 - MLflow raises its own exception, or the SDK's, by version
        why = (str(err).strip().splitlines() or [type(err).__name__])[0][:100]
        return (f"MLFLOW_TRACKING_URI={shown_store(store)}: cannot read Databricks credentials ({why}) (fix: "
                "DATABRICKS_HOST and DATABRICKS_TOKEN, or `databricks auth login`; or a local store, sqlite:///mlflow.db)")
    finally:
        logger.setLevel(level)
    return None


def missing_files_fix(first_line: str) -> str:
    """The fix to name when MLflow cannot load a model: its files gone from the store (deleted
    artifacts) are no misspelt name."""
    if "No such artifact" in first_line or "No such file" in first_line:
        return "the model's files are missing from the store's artifacts (deleted?); retrain it, or name another version"
    return "check the name and alias in the MLflow UI or set MLFLOW_TRACKING_URI"


def store_problem(store: str) -> str | None:
    """What makes an MLflow store unusable before MLflow is asked (it answers with a traceback
    deep in SQLAlchemy, or after minutes of retries), as `MLFLOW_TRACKING_URI=... : why; fix`; else None.

    >>> store_problem("file:///tmp/mlruns")
    'MLFLOW_TRACKING_URI=file:///tmp/mlruns: MLflow 3 logs to a database, not to a folder (fix: sqlite:///mlflow.db, or set MLFLOW_ALLOW_FILE_STORE=true)'
    """
    scheme = store.partition(":")[0] if "://" in store or store.startswith("file:") else ""
    folder = scheme == "file" or not scheme and not store.startswith("databricks")  # `databricks` is a host's name
    if folder and os.environ.get("MLFLOW_ALLOW_FILE_STORE", "").lower() not in ("true", "1"):
        return (f"MLFLOW_TRACKING_URI={shown_store(store)}: MLflow 3 logs to a database, not to a folder "
                "(fix: sqlite:///mlflow.db, or set MLFLOW_ALLOW_FILE_STORE=true)")
    if store.partition("?")[0] in ("sqlite://", "sqlite:///:memory:"):  # gone when the process ends
        return (f"MLFLOW_TRACKING_URI={shown_store(store)}: an in-memory database keeps no run or model after this process "
                "(fix: sqlite:///mlflow.db)")
    unknown = unknown_scheme(store) or missing_driver(store)
    if unknown:
        return unknown
    path = sqlite_path(store)
    if path is not None and str(path).startswith("~"):  # SQLAlchemy would make a folder named "~" here
        return (f"MLFLOW_TRACKING_URI={shown_store(store)}: a URI does not expand ~ (fix: the full path, "
                f"sqlite:///{Path(path).expanduser()})")
    if path is not None:
        if path.is_dir():
            return f"MLFLOW_TRACKING_URI={shown_store(store)}: {path} is a folder, not an SQLite database (fix: name a file in it)"
        try:
            with path.open("rb") as handle:
                head = handle.read(16)
        except OSError:
            return None  # a missing file is fine (MLflow creates it); MLflow's own error says more of the rest
        if head and head != b"SQLite format 3\x00":
            return f"MLFLOW_TRACKING_URI={shown_store(store)}: {path} is not an SQLite database (fix: point it at another file)"
        if head and sqlite_locked(path):
            return (f"MLFLOW_TRACKING_URI={shown_store(store)}: {path} is locked by another program (a transaction it holds "
                    "open); close it or wait for it to finish, then run again")
    return None


def sqlite_locked(path: Path) -> bool:
    """Whether another connection holds the database locked against readers (SQLite's exclusive lock):
    MLflow would wait, then stop with a traceback deep in SQLAlchemy."""
    import sqlite3
    from contextlib import closing

    try:
        with closing(sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=10)) as connection:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError as err:
        return "locked" in str(err)
    return False


def database_problem(store: str) -> str | None:
    """Why a PostgreSQL or MySQL store does not answer, within seconds (MLflow retries, then stops with a
    traceback after the work); None where it answers."""
    import sqlalchemy

    shown = f"MLFLOW_TRACKING_URI={shown_store(store)}"
    if "@" in uri_parts(store)[1].partition(":")[2]:  # the URI's reader ends a password at its first "@" (a user name may hold one)
        return (f"{shown}: the password holds '@', which ends it in a URI; percent-encode it (@ as %40, : as "
                "%3A, / as %2F: python -c \"import urllib.parse, getpass; print(urllib.parse.quote(getpass.getpass(), safe=''))\")")
    try:
        engine = sqlalchemy.create_engine(store, connect_args={"connect_timeout": 5})
        with engine.connect():
            pass
    except ImportError:
        return None  # missing_driver says so
    except (sqlalchemy.exc.SQLAlchemyError, ValueError) as err:  # ValueError: a port that is no number
        said = str(getattr(err, "orig", err)).strip()
        reason = said.splitlines()[0][:160]
        if "does not exist" in said or "Unknown database" in said or "to database" in said:  # MySQL 1049, 1044
            return f"{shown}: the database server answers, but not with that database ({reason}); create it or fix the name"
        if "authentication failed" in said or "Access denied" in said:  # PostgreSQL's words, MySQL's (1045)
            return f"{shown}: the database refuses the login ({reason}); fix the user or password"
        return f"{shown}: the database does not answer ({reason}); start it or fix the address"
    return None


def missing_driver(store: str) -> str | None:
    """A database store whose Python driver is not installed (`postgresql://` means psycopg 3 to
    SQLAlchemy 2.1; this project installs psycopg2): a traceback after the work, else."""
    if not store.startswith(("postgresql", "mysql", "mssql")):
        return None
    from sqlalchemy.engine import make_url

    try:
        make_url(store).get_dialect().import_dbapi()
    except ImportError as err:
        scheme = store.partition("://")[0]
        return (f"MLFLOW_TRACKING_URI={shown_store(store)}: the database driver for {scheme}:// is not installed "
                f"({err}) (fix: postgresql+psycopg2://... for PostgreSQL, or pip install the driver)")
    except Exception:  # noqa: BLE001 - a URI SQLAlchemy cannot read: MLflow's own message says more
        return None
    return None


def unknown_scheme(store: str) -> str | None:
    """A URI scheme MLflow has no tracking store for (`foo://bar` was a KeyError traceback)."""
    scheme = store.partition(":")[0].partition("+")[0].lower() if "://" in store else ""
    try:
        from mlflow.tracking._tracking_service.utils import _tracking_store_registry
        known = set(_tracking_store_registry._registry)
    except (ImportError, AttributeError):  # MLflow's own registry, not a public API: no check then
        return None
    if scheme and scheme not in known:
        return (f"MLFLOW_TRACKING_URI={shown_store(store)}: MLflow has no tracking store for '{scheme}:' (fix: sqlite:///mlflow.db, "
                "http(s)://<server>, or postgresql://<user>@<host>/<database>)")
    return None
