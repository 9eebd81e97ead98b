"""Which model this is, as far as it can be known: its name, registered version, alias and the
MLflow run that trained it, for the API's `/health`, the analyst's page and `train.evaluate --log`.

    >>> model_info(vnzh_runtime.load("models:/vn-china-topics-tfidf@champion"), "models:/vn-china-topics-tfidf@champion")
    {'name': 'vn-china-topics-tfidf', 'version': '3', 'alias': 'champion', ...}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from vnzh_runtime.stores import LOGGED_MODEL_ID

if TYPE_CHECKING:
    from vnzh_runtime.predictor import Predictor


def model_info(predictor: Predictor, source: str | None) -> dict:
    """Name, registered version and alias of the served model, as far as they can be known.

    A `models:/NAME@ALIAS` (or `models:/NAME/VERSION`) source names them; a model directory
    names itself in its training record (config.yaml, meta.json), and its registered version
    and aliases are looked up in the local MLflow store when there is one. A logged model's own
    URI (`models:/m-<id>`, MLflow 3) names the run that logged it, and through it any version.
    """
    info = {"name": None, "version": None, "alias": None, "source": source,
            "model_type": predictor.spec.get("model_type"), "format_version": predictor.spec.get("format_version"),
            "run_id": None, "model_id": None}
    if not source:
        return info
    if source.startswith("models:/"):
        rest = source.removeprefix("models:/").rstrip("/")  # MLflow loads "models:/m@champion/" as without the slash
        if LOGGED_MODEL_ID.fullmatch(rest):
            return _logged_model(info, rest)
        name, _, alias = rest.partition("@")
        if not alias and "/" in rest:
            name, _, info["version"] = rest.partition("/")
        info["name"], info["alias"] = name, alias or None
        found = _registry(lambda client: _registered(client, name, alias, info["version"]))
        if found is not None:
            info["version"], info["run_id"] = str(found.version), found.run_id
            info["model_id"] = version_model_id(found)
        return info
    if source.startswith("runs:/"):
        info["run_id"] = source.removeprefix("runs:/").split("/")[0] or None
        found = _registered_version(info["run_id"]) if info["run_id"] else None
        if found:  # the run registered a version: name it, as for a model directory
            info["name"], info["version"], info["alias"] = found
        return info
    directory = Path(source)
    if not directory.is_dir():
        return info
    info["name"] = directory.name
    try:
        config = yaml.safe_load((directory / "config.yaml").read_text(encoding="utf-8")) or {}
        tracking = config.get("mlflow") or {}
        # a model trained with log_model: false registered nothing: its registered name would name no model
        registered = tracking.get("registered_model") if tracking.get("log_model", True) else None
        info["name"] = registered or config.get("name") or directory.name
    except (OSError, ValueError, AttributeError, yaml.YAMLError):
        pass
    try:
        info["run_id"] = json.loads((directory / "meta.json").read_text(encoding="utf-8")).get("mlflow_run_id")
    except (OSError, ValueError, AttributeError):
        pass
    if info["run_id"]:
        found = _registered_version(info["run_id"])
        if found:
            info["name"], info["version"], info["alias"] = found
    return info


def _logged_model(info: dict, model_id: str) -> dict:
    """`info` for a logged model's own URI: its id, the run that logged it and what that run registered."""
    info["model_id"] = model_id
    info["run_id"] = _registry(lambda client: client.get_logged_model(model_id).source_run_id)
    found = _registered_version(info["run_id"]) if info["run_id"] else None
    if found:
        info["name"], info["version"], info["alias"] = found
    return info


def _registered_version(run_id: str) -> tuple[str, str, str | None] | None:
    """(name, version, aliases) registered from `run_id` in the local MLflow store, if there is one.

    A sqlite store is read directly, read-only, in milliseconds (importing MLflow to ask it would
    add seconds to every start); a team's tracking server is asked through MLflow once it answers
    its health check (a direct database URI is not: one that is down would stall start-up for
    minutes). The answer is for display, so any surprise gives None.
    """
    import sqlite3

    from vnzh_runtime.stores import server_problem, sqlite_path, tracking_uri

    store = tracking_uri()
    if store.startswith(("http://", "https://")):
        return None if server_problem(store) else _registry(lambda client: _version_of_run(client, run_id))
    path = sqlite_path(store)
    if path is None or not path.is_file():
        return None
    try:
        with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=1) as db:
            row = db.execute("SELECT name, version FROM model_versions WHERE run_id = ? "
                             "ORDER BY version DESC LIMIT 1", (run_id,)).fetchone()
            if not row:
                return None
            aliases = [a for (a,) in db.execute("SELECT alias FROM registered_model_aliases WHERE name = ? "
                                                "AND version = ? ORDER BY alias", row)]
        return row[0], str(row[1]), ", ".join(aliases) or None
    except (sqlite3.Error, ValueError, TypeError):
        return None


def _version_of_run(client, run_id: str) -> tuple[str, str, str | None] | None:
    found = max(client.search_model_versions(f"run_id='{run_id}'"), key=lambda version: int(version.version), default=None)
    if found is None:
        return None
    aliases = client.get_model_version(found.name, found.version).aliases  # a search leaves them out
    return found.name, str(found.version), ", ".join(sorted(aliases)) or None


def version_model_id(version) -> str | None:
    """The logged model (MLflow 3) behind a registered version: its `model_id`, which a version registered from
    "models:/m-<id>" may leave unset, else that source's id."""
    source = getattr(version, "source", None) or ""
    return getattr(version, "model_id", None) or (source.removeprefix("models:/") if source.startswith("models:/m-") else None)


def _registered(client, name: str, alias: str | None, version: str | None):
    """The model version a `models:/` URI names now: by alias, by number, or the newest for "latest"."""
    if alias:
        return client.get_model_version_by_alias(name, alias)
    if version == "latest":
        return max(client.search_model_versions(f"name='{name}'"), key=lambda found: int(found.version), default=None)
    return client.get_model_version(name, version)


def _registry(ask):
    try:
        from vnzh_runtime.pyfunc import quiet_mlflow
        from vnzh_runtime.stores import tracking_uri

        quiet_mlflow()
        import mlflow

        return ask(mlflow.MlflowClient(tracking_uri()))
    except Exception:  # noqa: BLE001 - model info is for display; serving never depends on it
        return None
