"""The logged MLflow model for `serve spark`, and this code shipped to the executors.

    >>> root = download_model("models:/vn-china-topics-tfidf@champion")   # the folder holding MLmodel
    >>> model_labels(root)[:2], accepts_doc_id(root)
    (['economy', 'border_sea'], True)
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import zipfile
from pathlib import Path

from serve.spark_input import first_line
from vnzh_runtime.errors import UserError


def download_model(uri: str) -> Path:
    """The logged MLflow model as a local folder (the one that holds MLmodel)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from vnzh_runtime.pyfunc import check_model_uri, quiet_mlflow
    from vnzh_runtime.stores import missing_files_fix, store_to_read

    quiet_mlflow()
    local = Path(uri)
    if local.is_dir():
        if not (local / "MLmodel").is_file():
            raise UserError(f"{uri}: not an MLflow model (no MLmodel file); serve spark tags with a logged model: "
                            "pass models:/NAME@ALIAS, runs:/RUN_ID/model, or a downloaded model folder")
        return local
    check_model_uri(uri)
    store = store_to_read(uri)  # as serve tag reads a models:/ URI: a store MLflow cannot read is one line
    mlflow.set_tracking_uri(store)
    try:
        return Path(mlflow.artifacts.download_artifacts(artifact_uri=uri))
    except (MlflowException, OSError) as err:
        raise UserError(f"{uri}: cannot load from MLflow at {store} ({first_line(err)}); "
                        f"{missing_files_fix(first_line(err))}") from None


def model_labels(root: Path) -> list[str]:
    from mlflow.models import Model

    from vnzh_runtime.pyfunc import MODEL_ARTIFACT
    from vnzh_runtime.spec import read_spec

    flavor = Model.load(str(root)).flavors["python_function"]
    return list(read_spec(root / flavor["artifacts"][MODEL_ARTIFACT]["path"])["labels"])


def accepts_doc_id(root: Path) -> bool:
    """Models logged before doc_id was in the signature: MLflow drops the column before predict."""
    from mlflow.models import Model

    schema = Model.load(str(root)).get_input_schema()
    return schema is None or "doc_id" in schema.input_names()


def runtime_zip(folder: Path) -> Path:
    """`serve` and `vnzh_runtime` as one zip for the executors (spark.sparkContext.addPyFile)."""
    import serve
    import vnzh_runtime

    target = folder / "vnzh_serve_code.zip"
    with zipfile.ZipFile(target, "w") as archive:
        for package in (serve, vnzh_runtime):
            root = Path(package.__file__).parent
            for path in sorted(root.rglob("*.py")):
                archive.write(path, Path(root.name) / path.relative_to(root))
    return target


_SHIPPED: set[int] = set()


def ship_code(spark) -> None:
    """Once per SparkContext: executors import this code from the zip, not from a checkout."""
    context = spark.sparkContext
    if id(context) not in _SHIPPED:
        folder = Path(tempfile.mkdtemp(prefix="vnzh-spark-"))
        atexit.register(shutil.rmtree, folder, True)  # Spark has copied it by then
        context.addPyFile(str(runtime_zip(folder)))
        _SHIPPED.add(id(context))
