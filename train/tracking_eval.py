"""`train.evaluate --log`'s side of MLflow: one evaluation run, linked to the model it scored.

    run_id = log_evaluation_run("models/tfidf", predictor.spec, model_info(predictor, "models/tfidf"),
                                results, report, ["mine.jsonl"], records)
"""

from __future__ import annotations

from pathlib import Path

from train.tracking import TAG_LIMIT, end_status, records_dataset, use_experiment
from vnzh_runtime.provenance import version_model_id
from vnzh_runtime.pyfunc import quiet_mlflow
from vnzh_runtime.stores import tracking_uri

EVALUATIONS = "vn-china-topics-evaluations"  # the experiment `train.evaluate --log` records its runs in


def logged_model_id(info: dict) -> str | None:
    """The id of the logged model (MLflow 3) given by its own URI, or behind a registered version or a
    training run, or None."""
    import mlflow

    if info.get("model_id"):
        return info["model_id"]
    try:
        if info.get("name") and info.get("version"):
            return version_model_id(mlflow.MlflowClient().get_model_version(info["name"], info["version"]))
        if info.get("run_id"):
            experiment = mlflow.MlflowClient().get_run(info["run_id"]).info.experiment_id
            found = mlflow.search_logged_models([experiment], filter_string=f"source_run_id = '{info['run_id']}'",
                                                output_format="list")
            return found[0].model_id if found else None
    except mlflow.exceptions.MlflowException:  # deleted, or a store without logged models: the tags still name it
        return None
    return None


def as_this_store_knows_it(info: dict, model: str) -> dict:
    """`info` of a model directory whose training run this store does not hold (trained against another store, or
    copied from another machine) without that run's registered name, version and run: here they would name
    another model, or none."""
    import mlflow

    from vnzh_runtime.stores import shown_store

    if model.startswith(("models:/", "runs:/")) or not info.get("run_id"):
        return info
    quiet_mlflow()
    try:
        mlflow.MlflowClient(tracking_uri()).get_run(info["run_id"])
        return info
    except mlflow.exceptions.MlflowException as err:
        if err.error_code != "RESOURCE_DOES_NOT_EXIST":  # a server error says nothing of where the model was trained
            return info
        claimed = f", not as {info['name']}" if info.get("name") and info["name"] != Path(model).name else ""
        print(f"note: {model} was trained against another MLflow store: its run {info['run_id']} is not in "
              f"{shown_store(tracking_uri())}; the evaluation run names it by its directory{claimed}\n")
        return info | {"name": None, "version": None, "alias": None, "run_id": None}


def log_evaluation_run(model: str, spec: dict, info: dict, results: dict, report: str, data_files: list[str],
                       records: list, extra_metrics: dict | None = None, dev_seen: bool = False,
                       against: str | None = None) -> str:
    """One run in the `vn-china-topics-evaluations` experiment, tagged with the model it evaluated:
    the name given, and `info` (`vnzh_runtime.provenance.model_info`): the registered name, version,
    alias and training run behind it (an alias moves on; the version a run scored does not). Its
    metrics are linked to that logged model too (MLflow 3's model page lists them), where it is found."""
    import mlflow

    quiet_mlflow()
    mlflow.set_tracking_uri(tracking_uri())
    use_experiment(EVALUATIONS, "the evaluations experiment", renamable=False)
    shown = f"{info['name']} v{info['version']}" if info.get("name") and info.get("version") else Path(model).name or model
    model_id = logged_model_id(info)
    run = mlflow.start_run(run_name=f"evaluate {shown}")
    try:
        data = ",".join(data_files)
        if len(data) > TAG_LIMIT:  # every name is in data_files.txt
            data = data[:TAG_LIMIT - 60].rsplit(",", 1)[0] + f",... ({len(data_files)} in all: data_files.txt)"
        tags = {"evaluated_model": model, "model_type": spec.get("model_type"), "data": data}
        tags |= {f"evaluated_model_{key}": info[key] for key in ("name", "version", "alias", "run_id") if info[key]}
        if model_id:
            tags["evaluated_model_id"] = model_id
        mlflow.set_tags(tags)
        if against:  # the paired table is in classification_report.txt
            mlflow.set_tag("compared_against", against)
        if dev_seen:
            mlflow.set_tag("dev_held_out", "not for its corpus's dev records: the model was fitted on train + dev")
        metrics = {k: float(v) for r in results.values() for k, v in r.metrics().items()} | (extra_metrics or {})
        # Named by its data and digest on the model's page, beside training's own dev_/test_ figures
        dataset = evaluation_dataset(records, data_files)
        mlflow.log_input(dataset, context="evaluation")
        # dev records the model was fitted on (refit_on_dev) score near 1: on the run, beside its tag, but not
        # on the model's page, where they would sit by training's held-out dev_macro_f1 under the same name
        seen = {k: v for k, v in metrics.items() if dev_seen and k.split("/")[-1].startswith("dev")}
        mlflow.log_metrics({k: v for k, v in metrics.items() if k not in seen}, model_id=model_id, dataset=dataset)
        if seen:
            mlflow.log_metrics(seen, dataset=dataset)
        mlflow.log_text(report, "classification_report.txt")
        mlflow.log_text("\n".join(data_files) + "\n", "data_files.txt")
    except BaseException as err:
        mlflow.end_run(status=end_status(type(err)))
        raise
    mlflow.end_run()
    return run.info.run_id


def evaluation_dataset(records: list, data_files: list[str]):
    """The evaluated records as an MLflow dataset, named by the files they came from."""
    names = ",".join(Path(name).name for name in data_files)
    return records_dataset(records, f"evaluate {names if len(names) <= 80 else names[:70].rsplit(',', 1)[0] + ',...'}",
                           data_files)
