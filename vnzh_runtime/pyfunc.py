"""The MLflow pyfunc model: a DataFrame with `text` (and optional `doc_id`) in, lang/label/scores out.

Rows come out one per row in. A missing, empty or blank `text` is not tagged: its row has no
lang or label and says why in `error` (null on tagged rows), as `serve tag` writes an error record.

It is logged as models-from-code (`pyfunc_entry.py`) with this package as its code, so the
logged model loads wherever its requirements are installed, with nothing from the project's
checkout:

    >>> model = mlflow.pyfunc.load_model("models:/vn-china-topics-tfidf@champion")
    >>> model.predict(pd.DataFrame({"text": ["中越贸易额创新高"]}))
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import numpy as np
import pandas as pd
from mlflow.pyfunc import PythonModel

from vnzh_runtime.errors import UserError
from vnzh_runtime.markup import is_blank

MODEL_ARTIFACT = "model_dir"
OUTPUT_COLUMNS = ["lang", "label", "labels", "scores"]
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


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
        raise UserError(f"{uri}: no MLflow store at {store} (fix: run from the project root, or set MLFLOW_TRACKING_URI)")
    return store


def server_problem(store: str) -> str | None:
    """Why an http(s) tracking server cannot be used, in one line, within seconds (MLflow itself
    retries for minutes, then blames the model's name); None for any other store, or one that answers."""
    if not store.startswith(("http://", "https://")):
        return None
    import urllib.request

    try:
        urllib.request.urlopen(store.rstrip("/") + "/health", timeout=5).read()
    except OSError as err:
        return (f"MLFLOW_TRACKING_URI={store}: the tracking server does not answer ({getattr(err, 'reason', err)}); "
                "start it or fix the address")
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
        return (f"MLFLOW_TRACKING_URI={store}: MLflow 3 logs to a database, not to a folder "
                "(fix: sqlite:///mlflow.db, or set MLFLOW_ALLOW_FILE_STORE=true)")
    if store.partition("?")[0] in ("sqlite://", "sqlite:///:memory:"):  # gone when the process ends
        return (f"MLFLOW_TRACKING_URI={store}: an in-memory database keeps no run or model after this process "
                "(fix: sqlite:///mlflow.db)")
    unknown = unknown_scheme(store)
    if unknown:
        return unknown
    path = sqlite_path(store)
    if path is not None and str(path).startswith("~"):  # SQLAlchemy would make a folder named "~" here
        return (f"MLFLOW_TRACKING_URI={store}: a URI does not expand ~ (fix: the full path, "
                f"sqlite:///{Path(path).expanduser()})")
    if path is not None:
        if path.is_dir():
            return f"MLFLOW_TRACKING_URI={store}: {path} is a folder, not an SQLite database (fix: name a file in it)"
        try:
            with path.open("rb") as handle:
                head = handle.read(16)
        except OSError:
            return None  # a missing file is fine (MLflow creates it); MLflow's own error says more of the rest
        if head and head != b"SQLite format 3\x00":
            return f"MLFLOW_TRACKING_URI={store}: {path} is not an SQLite database (fix: point it at another file)"
        if head and sqlite_locked(path):
            return (f"MLFLOW_TRACKING_URI={store}: {path} is locked by another program (a transaction it holds "
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


def unknown_scheme(store: str) -> str | None:
    """A URI scheme MLflow has no tracking store for (`foo://bar` was a KeyError traceback)."""
    scheme = store.partition(":")[0].partition("+")[0].lower() if "://" in store else ""
    try:
        from mlflow.tracking._tracking_service.utils import _tracking_store_registry
        known = set(_tracking_store_registry._registry)
    except (ImportError, AttributeError):  # MLflow's own registry, not a public API: no check then
        return None
    if scheme and scheme not in known:
        return (f"MLFLOW_TRACKING_URI={store}: MLflow has no tracking store for '{scheme}:' (fix: sqlite:///mlflow.db, "
                "http(s)://<server>, or postgresql://<user>@<host>/<database>)")
    return None


def quiet_mlflow() -> None:
    """MLflow's INFO lines, progress bars and warnings drown the one line a user needs."""
    import logging
    import warnings

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module=r"mlflow\..*")


class TaggerPyfunc(PythonModel):
    def load_context(self, context) -> None:
        from vnzh_runtime.predictor import Predictor

        self.predictor = Predictor.load(context.artifacts[MODEL_ARTIFACT])

    # `model_input: pd.DataFrame` is a hint MLflow documents as one it infers no schema from and converts
    # nothing for: predict reads a DataFrame (or a list of texts) itself. Without a hint MLflow warned,
    # when this class was defined, on every `python -m train` and `train.evaluate`.
    def predict(self, context, model_input: pd.DataFrame, params=None):
        """One output row per input row; a row whose text is missing or empty gets no label and an `error`.
        `params={"threshold": 0.6}`: abstain (`uncertain`) below that top score, for this call alone."""
        predictor = self.predictor_for((params or {}).get("threshold"))
        if isinstance(model_input, pd.DataFrame):
            model_input = spread_columns(model_input)
            texts = model_input["text"].tolist()
            doc_ids = model_input["doc_id"].tolist() if "doc_id" in model_input.columns else None
        else:
            texts, doc_ids = list(model_input), None
        if doc_ids is not None:
            doc_ids = [None if pd.api.types.is_scalar(doc) and pd.isna(doc) else doc for doc in doc_ids]
        errors = [text_error(text) for text in texts]
        good = [i for i, error in enumerate(errors) if error is None]
        # Untaggable rows touch no article's head, as in `serve tag`.
        tagged = iter(predictor.predict([texts[i] for i in good],
                                        doc_ids=[doc_ids[i] for i in good] if doc_ids is not None else None))
        extra = ["label_scores"] if predictor.multilabel else []
        rows = [next(tagged) | {"error": None} if error is None else self.error_row(error, extra) for error in errors]
        # object columns keep None as None (pandas' str dtype would turn it into NaN): null, as in JSON.
        # The caller's index is kept, so results join back to the rows (and their ids) they came from.
        index = model_input.index if isinstance(model_input, pd.DataFrame) else None
        return pd.DataFrame(rows, columns=OUTPUT_COLUMNS + extra + ["error"], dtype=object, index=index)

    def predictor_for(self, threshold):
        """The loaded predictor, or a shallow copy abstaining at this call's threshold (the model is shared)."""
        if threshold is None:
            return self.predictor
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
            raise UserError(f"params.threshold: {threshold!r} is not a number from 0 to 1")  # the signature's double
        view = copy.copy(self.predictor)
        view.threshold = float(threshold)
        return view

    def error_row(self, error: str, extra: list[str]) -> dict:
        # Scores are a mapping of nulls, not null: spark_udf converts each row's scores to a struct
        # and stops on a null one (serve spark sends its own error rows through as "" and drops them).
        nulls = dict.fromkeys(self.predictor.labels)
        return {"lang": None, "label": None, "labels": None, "scores": nulls, **{k: dict(nulls) for k in extra},
                "error": error}


def spread_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of MLflow's column format. MLflow turns `{"text": [t1, t2]}` (and a served model's
    `{"inputs": {"text": [...]}}`) into ONE row holding the lists; each list is a column of rows.

    >>> spread_columns(pd.DataFrame([{"text": ["a", "b"], "doc_id": ["d", "d"]}]))["text"].tolist()
    ['a', 'b']
    """
    if len(frame) != 1 or "text" not in frame.columns or not isinstance(frame["text"].iloc[0], (list, tuple, np.ndarray)):
        return frame
    cells = {column: list(cell) if isinstance(cell, (tuple, np.ndarray)) else cell  # a column of values, too
             for column, cell in ((column, frame[column].iloc[0]) for column in frame.columns)}
    size = len(cells["text"])
    for column, cell in cells.items():
        if isinstance(cell, list) and len(cell) != size:  # else rows lost, or a misleading "'text' must be a string"
            raise UserError(f"{column}: {len(cell)} values for {size} texts; give one per text, or one value for all")
    # a single value (`"doc_id": "a"`) is every row's, as pandas spreads it
    return pd.DataFrame({column: cell if isinstance(cell, list) else [cell] * size for column, cell in cells.items()},
                        dtype=object)


def text_error(text) -> str | None:
    """Why a text cell cannot be tagged (as `serve tag` says it), or None when it can."""
    if isinstance(text, str):
        return "'text' is empty" if is_blank(text) else None
    if pd.api.types.is_scalar(text) and pd.isna(text):  # None, NaN, pd.NA
        return "'text' is missing"
    return f"'text' must be a string, got {type(text).__name__}"


def load_from_mlflow(uri: str, threshold=None, options: dict | None = None, label_thresholds: dict | None = None):
    """The `Predictor` of a logged model (models:/name@alias, runs:/id/model)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from vnzh_runtime.predictor import Predictor

    if uri.startswith("runs:/") and "/" not in uri.removeprefix("runs:/").strip("/"):  # MLflow: "Not a proper runs:/ URI"
        raise UserError(f"{uri}: a run's URI names the model logged in it (fix: {uri.rstrip('/')}/model)")
    quiet_mlflow()
    store = store_to_read(uri)
    mlflow.set_tracking_uri(store)
    try:
        # Only the model directory is read: the logged model's code is never run to tag.
        root = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri))
        flavor = mlflow.models.Model.load(str(root)).flavors["python_function"]
        local = root / flavor["artifacts"][MODEL_ARTIFACT]["path"]
    except (MlflowException, OSError, KeyError) as err:
        first = str(getattr(err, "message", err)).splitlines()[0][:160]
        raise UserError(f"{uri}: cannot load from MLflow at {store} ({first}); {missing_files_fix(first)}") from None
    return Predictor.load(local, threshold=threshold, options=options, label_thresholds=label_thresholds)
