"""Whether a newly registered version takes the alias (`@champion`) from the version holding it.

What serves `models:/NAME@champion` (the API, `serve tag`, Spark) should not get worse because
someone retrained with a worse setting. So the alias moves to the new version unless the version
holding it scored higher on the same dev data: the same digest of every dev record and label
(`train.tracking.records_dataset`), where both dev figures come from the same protocol. On other
dev data the two figures say nothing about each other, and the newest training wins, as it did
before. `mlflow.promote: always` moves it whatever the figures say.

    >>> held = {"version": "3", "dev_macro_f1": 0.931, "dev_digest": "ab12cd34"}
    >>> alias_kept(held, 0.925, "ab12cd34", "champion", "4")
    '@champion stays on version 3: dev macro-F1 0.931 against 0.925 for this run, on the same dev data; ...'
    >>> alias_kept(held, 0.931, "ab12cd34", "champion", "4") is None   # a tie moves it: the newest wins
    True
    >>> alias_kept(held, 0.900, "ffff0000", "champion", "4") is None   # other dev data: not comparable
    True
"""

from __future__ import annotations

DEV_METRIC = "dev_macro_f1"
DEV_CONTEXT = "dev"  # the `mlflow.data.context` tag training logs its dev split under


def alias_holder(name: str, alias: str) -> dict | None:
    """The version holding `alias` and its training run's dev figure and dev-data digest; None where no
    version holds it, or its run is gone (nothing to compare against: the alias moves)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient()
    try:
        version = client.get_model_version_by_alias(name, alias)
        run = client.get_run(version.run_id) if version.run_id else None
    except MlflowException:  # no such model or alias yet, or a run deleted for good
        return None
    if run is None or run.info.lifecycle_stage == "deleted":
        return None
    digests = [item.dataset.digest for item in run.inputs.dataset_inputs
               if any(tag.key == "mlflow.data.context" and tag.value == DEV_CONTEXT for tag in item.tags)]
    return {"version": version.version, "dev_macro_f1": run.data.metrics.get(DEV_METRIC),
            "dev_digest": digests[0] if len(digests) == 1 else None}


def alias_kept(held: dict | None, dev_macro_f1: float | None, dev_digest: str | None, alias: str,
               new_version: str) -> str | None:
    """Why the alias stays where it is (a note for the user), or None where it moves to `new_version`."""
    if held is None or dev_macro_f1 is None or dev_digest is None:
        return None
    if held["dev_macro_f1"] is None or held["dev_digest"] != dev_digest or dev_macro_f1 >= held["dev_macro_f1"]:
        return None
    return (f"@{alias} stays on version {held['version']}: dev macro-F1 {held['dev_macro_f1']:.3f} against "
            f"{dev_macro_f1:.3f} for this run, on the same dev data; this run's model is version {new_version} "
            f"(to serve it anyway: retrain with --set mlflow.promote=always, or give it the alias on the "
            f"model's page in the MLflow UI)")
