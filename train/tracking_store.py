"""Where training's runs go, checked before any work: the tracking store (a server that answers, a
database this user can write) and the experiment's artifact folder beside an SQLite store.

    >>> check_tracking_server("vn-china-topics")   # one UserError line naming the fix, or nothing
"""

from __future__ import annotations

import os
from pathlib import Path

from vnzh_runtime.errors import UserError
from vnzh_runtime.stores import server_problem, shown_store, sqlite_path, store_problem, tracking_uri


def is_main_process() -> bool:
    """Rank 0 of a multi-process run (torchrun / accelerate launch set RANK), or a plain single process.

    Only the main process opens the MLflow run, writes the model directory and registers;
    the other ranks only help the Trainer fit (data parallelism)."""
    return int(os.environ.get("RANK", "0") or 0) == 0


def check_tracking_server(experiment: str | None = None) -> None:
    """The tracking store must be usable before any work starts: an http(s) server must answer,
    and a database file must be one (`store_problem`) that this user can write, with the
    experiment's artifact folder beside it."""
    uri = tracking_uri()
    problem = store_problem(uri) or unwritable_sqlite(uri, experiment) or server_problem(uri)
    if problem:
        raise UserError(problem)


def unwritable_sqlite(uri: str, experiment: str | None = None) -> str | None:
    """Why a run could not be written to a `sqlite:///` store (MLflow would retry, then fail with a
    traceback after training): the file, or the folder SQLite writes its journal and MLflow its
    artifacts in, read-only for this user. A store only read from (serve tag models:/...) may be read-only."""
    path = sqlite_path(uri)
    if path is None:
        return None
    path = path.absolute()
    folder = next(p for p in path.parents if p.exists())
    places = ([path] if path.exists() else []) + [folder]
    if experiment is not None:  # the experiment's artifacts (the model's files) go beside the database
        artifacts = artifacts_dir(path, experiment)
        places.append(next(p for p in [artifacts, *artifacts.parents] if p.exists()))
    for place in places:
        if not os.access(place, os.W_OK):
            return (f"MLFLOW_TRACKING_URI={shown_store(uri)}: {place} is read-only for this user, so no run can be written there "
                    "(fix: point MLFLOW_TRACKING_URI at a store you can write, e.g. sqlite:///mlflow.db)")
    probe = not path.exists() and not path.is_symlink() and is_main_process()  # one rank makes it
    problem = uncreatable_sqlite(path, folder) if probe else None
    return f"MLFLOW_TRACKING_URI={shown_store(uri)}: {problem}" if problem else None


def uncreatable_sqlite(path: Path, folder: Path) -> str | None:
    """Why SQLite cannot create the database (MLflow retried for minutes, then stopped with a traceback):
    a file where a folder should be, a place no file can be made (/sys, /proc)."""
    import sqlite3

    if not folder.is_dir():
        return f"{folder} is a file, not a folder (fix: name a database in a folder)"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # MLflow makes the folders too
        sqlite3.connect(path).close()  # what MLflow does first; the empty file it leaves is removed below
    except (OSError, sqlite3.Error) as err:
        return f"cannot create the database {path} ({err}) (fix: name a database in a folder you can write)"
    if path.exists() and path.stat().st_size == 0:
        path.unlink()
    return None


def artifact_location(experiment: str) -> str | None:
    """Artifacts beside a SQLite store (mlartifacts/ next to mlflow.db), not in the working directory."""
    path = sqlite_path(tracking_uri())
    if path is None:
        return None  # a tracking server decides for itself
    return artifacts_dir(path, experiment).as_uri()


def artifacts_dir(database: Path, experiment: str) -> Path:
    """An experiment's artifact folder beside an SQLite store (beside the database a link points to)."""
    return database.resolve().parent / "mlartifacts" / artifact_folder(experiment)


def artifact_folder(experiment: str) -> str:
    """One folder under mlartifacts/ for an experiment, whatever its name holds: a Databricks-style
    "/Users/me/vn-china" or "../x" would otherwise put the artifacts anywhere on the disk.

    >>> artifact_folder("vn-china-topics"), artifact_folder("/Users/me/vn china"), artifact_folder("..")
    ('vn-china-topics', '%2FUsers%2Fme%2Fvn china', '%2E%2E')
    """
    from urllib.parse import quote

    folder = quote(experiment, safe=" -_.,()+@")
    return folder if folder.strip(".") else folder.replace(".", "%2E")
