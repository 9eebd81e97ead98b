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

import os
import re
import tempfile
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pandas as pd
from mlflow.pyfunc import PythonModel

from vnzh_runtime.errors import UserError
from vnzh_runtime.markup import is_blank
from vnzh_runtime.stores import LOGGED_MODEL_ID, missing_files_fix, shown_store, store_to_read

MODEL_ARTIFACT = "model_dir"
OUTPUT_COLUMNS = ["lang", "label", "labels", "scores"]
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
        `params={"threshold": 0.6}`: abstain (`uncertain`) below that top score, for this call alone.

        A call it refuses raises MlflowException (INVALID_PARAMETER_VALUE): `mlflow models serve` answers
        it with 400 and the reason in `message`; any other exception reaches a caller of the served model
        only as MLflow's "unexpected error", the reason buried in `stack_trace`."""
        from mlflow.exceptions import MlflowException
        from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

        params = params or {}
        try:
            return self.tag(model_input, call_threshold(params.get("threshold"), params.get("auto_threshold")))
        except UserError as err:
            raise MlflowException(str(err), error_code=INVALID_PARAMETER_VALUE) from None

    def tag(self, model_input, threshold: float | str | None) -> pd.DataFrame:
        texts, doc_ids, index = input_rows(model_input)
        if doc_ids is not None:
            doc_ids = [None if pd.api.types.is_scalar(doc) and pd.isna(doc) else doc for doc in doc_ids]
        errors = [text_error(text) for text in texts]
        good = [i for i, error in enumerate(errors) if error is None]
        # Untaggable rows touch no article's head, as in `serve tag`.
        tagged = iter(self.predictor.predict([texts[i] for i in good], threshold,
                                             doc_ids=[doc_ids[i] for i in good] if doc_ids is not None else None))
        extra = ["label_scores"] if self.predictor.multilabel else []
        rows = [next(tagged) | {"error": None} if error is None else self.error_row(error, extra) for error in errors]
        # object columns keep None as None (pandas' str dtype would turn it into NaN): null, as in JSON.
        return pd.DataFrame(rows, columns=OUTPUT_COLUMNS + extra + ["error"], dtype=object, index=index)

    def error_row(self, error: str, extra: list[str]) -> dict:
        # Scores are a mapping of nulls, not null: spark_udf converts each row's scores to a struct
        # and stops on a null one (serve spark sends its own error rows through as "" and drops them).
        nulls = dict.fromkeys(self.predictor.labels)
        return {"lang": None, "label": None, "labels": None, "scores": nulls, **{k: dict(nulls) for k in extra},
                "error": error}


def call_threshold(threshold, auto=None) -> float | str | None:
    """A call's `params` (the signature's `threshold`, a double, and `auto_threshold`, a boolean: MLflow refuses
    the string "auto" for a double before the model sees it) as `Predictor.predict`'s threshold; None: the model's own.

    >>> call_threshold(0.6), call_threshold(None, True), call_threshold(None, False)
    (0.6, 'auto', None)
    """
    if auto not in (None, True, False):
        raise UserError(f"params.auto_threshold: {auto!r} is not true or false")
    if auto and threshold is not None:
        raise UserError("params: threshold and auto_threshold both given; give one (auto_threshold: the one chosen on dev)")
    if auto:
        return "auto"
    if threshold is None:
        return None
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise UserError(f"params.threshold: {threshold!r} is not a number from 0 to 1")
    return float(threshold)


def input_rows(model_input) -> tuple[list, list | None, pd.Index | None]:
    """(texts, doc_ids or None, the caller's index) of a DataFrame with `text` (and `doc_id`), a Series or a list
    of texts; the index is kept, so results join back to the rows (and their ids) they came from. A string alone
    would be tagged character by character, and a dict key by key: refused.

    >>> input_rows(pd.Series(["a", "b"], index=[9, 4]))
    (['a', 'b'], None, Index([9, 4], dtype='int64'))
    """
    if isinstance(model_input, pd.DataFrame):
        frame = spread_columns(model_input)
        if "text" not in frame.columns:  # the signature requires it: only a caller of the unwrapped model gets here
            raise UserError(f"model input: no 'text' column (found {[str(c) for c in frame.columns][:10]}); name the "
                            "column of texts 'text'")
        doc_ids = frame["doc_id"].tolist() if "doc_id" in frame.columns else None
        return frame["text"].tolist(), doc_ids, frame.index
    if isinstance(model_input, pd.Series):
        return model_input.tolist(), None, model_input.index
    if isinstance(model_input, (list, tuple, np.ndarray)):
        return list(model_input), None, None
    raise UserError(f"model input: a {type(model_input).__name__}; give a DataFrame with a 'text' column, or a list "
                    "of texts")


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
    if size == 0:  # else no row out for the row in
        raise UserError("text: an empty list; give at least one text")
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


def check_model_uri(uri: str) -> None:
    """One line for a URI that names no one model, where MLflow's own words would mislead."""
    if uri.startswith("runs:/") and "/" not in uri.removeprefix("runs:/").strip("/"):  # MLflow: "Not a proper runs:/ URI"
        run = uri.removeprefix("runs:/").strip("/") or "<run id>"
        raise UserError(f"{uri}: a run's URI names the model logged in it (fix: runs:/{run}/model)")
    name = uri.removeprefix("models:/").strip("/")
    if uri.startswith("models:/") and not re.search(r"[/@]", name) and not LOGGED_MODEL_ID.fullmatch(name):
        # MLflow reads a bare name as a logged model's id: "Logged model with ID '<name>' not found"
        shown = name or "<name>"
        raise UserError(f"{uri}: names no version or alias of the registered model (fix: models:/{shown}@champion, "
                        f"or models:/{shown}/<version>)")


def load_from_mlflow(uri: str, threshold=None, options: dict | None = None, label_thresholds: dict | None = None):
    """The `Predictor` of a logged model (models:/name@alias, runs:/id/model)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from vnzh_runtime.predictor import Predictor

    check_model_uri(uri)
    quiet_mlflow()
    store = store_to_read(uri)
    mlflow.set_tracking_uri(store)
    uri = uri.rstrip("/") if uri.startswith("runs:/") else uri  # MLflow: "No such artifact: 'MLmodel'" with the slash
    # MLflow copies a model it cannot read in place (a runs:/ URI, a server's artifacts) to a new temporary folder
    # and leaves it there: the copy goes to one that is removed once the model is in memory.
    scratch = None if read_in_place(uri) else tempfile.TemporaryDirectory(prefix="vnzh-model-")
    try:
        try:
            # Only the model directory is read: the logged model's code is never run to tag.
            root = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=scratch and scratch.name))
            flavor = mlflow.models.Model.load(str(root)).flavors["python_function"]
            local = root / flavor["artifacts"][MODEL_ARTIFACT]["path"]
        except (MlflowException, OSError, KeyError) as err:
            first = str(getattr(err, "message", err)).splitlines()[0][:160]
            raise UserError(f"{uri}: cannot load from MLflow at {shown_store(store)} ({first}); "
                            f"{missing_files_fix(first)}") from None
        return Predictor.load(local, threshold=threshold, options=options, label_thresholds=label_thresholds)
    finally:
        if scratch is not None:
            scratch.cleanup()


def read_in_place(uri: str) -> bool:
    """Whether MLflow reads a logged model's files where the store keeps them (a models:/ URI whose artifacts
    are on this machine's disk) rather than copying them."""
    from mlflow.exceptions import MlflowException
    from mlflow.store.artifact.models_artifact_repo import ModelsArtifactRepository

    if not uri.startswith("models:/"):
        return False
    try:
        return urlparse(ModelsArtifactRepository.get_underlying_uri(uri)).scheme in ("", "file")
    except (MlflowException, OSError, ValueError):  # the download that follows says what is wrong
        return False
