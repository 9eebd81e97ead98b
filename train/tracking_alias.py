"""Whether a newly registered version takes the alias (`@champion`) from the version holding it.

What serves `models:/NAME@champion` (the API, `serve tag`, Spark) should not get worse because
someone retrained with a worse setting. So the alias moves to the new version unless the version
holding it scored a higher dev macro-F1 on the same dev data (the same digest of every dev record
and label, `train.tracking.records_dataset`) with the same task, label list and refit_on_dev: both
figures then come from the same protocol on the same records. Otherwise the two figures say
nothing about each other, and the newest training takes the alias, as it always did, with a note
that says so and how to put it back. Where the store cannot say who holds the alias (a server
error, no permission), the alias is left alone. `mlflow.promote: always` moves it whatever the
figures say, with a note naming the version it took the alias from.

    held = alias_holder("vn-china-topics-tfidf", "champion")         # None: nobody holds it
    moves, note = alias_decision(held, this_run, "vn-china-topics-tfidf", "champion", "4", "models/tfidf")
"""

from __future__ import annotations

import json
from dataclasses import dataclass

DEV_METRIC = "dev_macro_f1"
DEV_CONTEXT = "dev"  # the `mlflow.data.context` tag training logs its dev split under
# Run parameters that must match for two dev figures to be compared: with refit_on_dev the saved model has
# also learnt dev, so a model fitted on train alone is weaker at the same dev figure
SAME_SETUP = ("task", "data.labels", "refit_on_dev")
NOT_FOUND = ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE")  # no such model, run, or alias on it


@dataclass
class DevFigure:
    """What a training run scored on dev, and what makes two such figures comparable."""
    dev_macro_f1: float | None
    dev_digest: str | None
    setup: dict[str, str | None]
    version: str = ""  # the registered version it belongs to, where it is the alias's holder


class AliasUnreadable(Exception):
    """The store would not say which version holds the alias."""


def alias_holder(name: str, alias: str) -> DevFigure | None:
    """The version holding `alias` and its training run's dev figure (empty where it has no run); None
    where no version holds it. Any other MLflow error is `AliasUnreadable`."""
    import mlflow
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient()
    try:
        version = client.get_model_version_by_alias(name, alias)
    except MlflowException as err:
        if err.error_code in NOT_FOUND:
            return None
        raise unreadable(err) from None
    try:  # a run deleted (still readable until purged) keeps its figures; one purged has none
        run = client.get_run(version.run_id) if version.run_id else None
    except MlflowException as err:
        if err.error_code not in NOT_FOUND:
            raise unreadable(err) from None
        run = None
    if run is None:
        return DevFigure(None, None, {}, version.version)
    digests = [item.dataset.digest for item in run.inputs.dataset_inputs
               if any(tag.key == "mlflow.data.context" and tag.value == DEV_CONTEXT for tag in item.tags)]
    return DevFigure(run.data.metrics.get(DEV_METRIC), digests[0] if len(digests) == 1 else None,
                     setup_of(run.data.params), version.version)


def unreadable(err) -> AliasUnreadable:
    return AliasUnreadable(f"{err.error_code}: {str(err).splitlines()[0][:120]}")


def setup_of(params: dict[str, str]) -> dict[str, str | None]:
    """The logged parameters that make two dev figures comparable; the label list in any order.

    >>> setup_of({"task": "single", "data.labels": '["other", "economy"]', "seed": "13"})
    {'task': 'single', 'data.labels': '["economy", "other"]', 'refit_on_dev': None}
    """
    setup = {key: params.get(key) for key in SAME_SETUP}
    try:
        setup["data.labels"] = json.dumps(sorted(json.loads(setup["data.labels"])), ensure_ascii=False)
    except (TypeError, ValueError):  # not logged, or not a list: compared as it is
        pass
    return setup


def not_comparable(held: DevFigure, new: DevFigure) -> str | None:
    """Why the two dev figures cannot be compared, or None where they can."""
    if held.dev_macro_f1 is None or held.dev_digest is None:
        return f"version {held.version} has no training run with a dev figure"
    if new.dev_macro_f1 is None or new.dev_digest is None:
        return "this run has no dev figure"
    if held.setup != new.setup:
        differs = ", ".join(key for key in SAME_SETUP if held.setup.get(key) != new.setup.get(key))
        return f"version {held.version} was trained with another {differs}"
    if held.dev_digest != new.dev_digest:
        return f"version {held.version} was scored on other dev data (dev macro-F1 {held.dev_macro_f1:.3f})"
    return None


def alias_decision(held: DevFigure | None, new: DevFigure, name: str, alias: str, new_version: str,
                   model_dir) -> tuple[bool, str | None]:
    """(whether the alias moves to `new_version`, a note for the user or None).

    >>> held = DevFigure(0.931, "ab12cd34", {"task": "single"}, version="3")
    >>> print(alias_decision(held, DevFigure(0.925, "ab12cd34", {"task": "single"}), "m", "champion", "4", "models/x")[1])
    @champion stays on version 3: dev macro-F1 0.931 against 0.925 for this run, on the same dev data; ...
    >>> alias_decision(held, DevFigure(0.931, "ab12cd34", {"task": "single"}), "m", "champion", "4", "x")  # a tie
    (True, None)
    >>> print(alias_decision(held, DevFigure(0.9, "ffff0000", {"task": "single"}), "m", "champion", "4", "x")[1])
    @champion moved from version 3 to version 4 without a comparison: version 3 was scored on other dev data ...
    """
    if held is None:
        return True, None
    why_not = not_comparable(held, new)
    if why_not:
        return True, (f"@{alias} moved from version {held.version} to version {new_version} without a comparison: "
                      f"{why_not}; this run's dev macro-F1 {figure(new.dev_macro_f1)} "
                      + put_back(name, alias, held.version))
    if new.dev_macro_f1 >= held.dev_macro_f1:
        return True, None
    held_shown, new_shown = apart(held.dev_macro_f1, new.dev_macro_f1)
    return False, (f"@{alias} stays on version {held.version}: dev macro-F1 {held_shown} against {new_shown} for "
                   f"this run, on the same dev data; " + left_alone(name, alias, new_version, model_dir))


def apart(first: float, second: float) -> tuple[str, str]:
    """Two figures with as many decimals as it takes to tell them apart, at least three: never "0.931
    against 0.931" for a higher and a lower figure.

    >>> apart(0.93149, 0.93101)
    ('0.93149', '0.93101')
    """
    for digits in (3, 5, 8):
        if f"{first:.{digits}f}" != f"{second:.{digits}f}":
            break
    return f"{first:.{digits}f}", f"{second:.{digits}f}"


def forced_move(held: DevFigure | None, new: DevFigure, name: str, alias: str, new_version: str) -> str | None:
    """mlflow.promote=always: the note that says which version lost the alias, and how to put it back."""
    if held is None:
        return None
    return (f"@{alias} moved from version {held.version} (dev macro-F1 {figure(held.dev_macro_f1)}) to version "
            f"{new_version} (dev macro-F1 {figure(new.dev_macro_f1)}) by mlflow.promote=always "
            + put_back(name, alias, held.version))


def figure(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.3f}"


def set_alias_line(name: str, alias: str, version: str) -> str:
    return f"mlflow.MlflowClient().set_registered_model_alias({name!r}, {alias!r}, {version})"


def put_back(name: str, alias: str, old_version: str) -> str:
    return f"(to put it back: {set_alias_line(name, alias, old_version)} in Python, or the model's page in the MLflow UI)"


def left_alone(name: str, alias: str, new_version: str, model_dir) -> str:
    """Where this run's model is when the alias stays elsewhere, and how to move the alias to it."""
    return (f"{model_dir} and version {new_version} hold this run's model, @{alias} does not (to serve it: "
            f"give version {new_version} the alias on the model's page in the MLflow UI, or in Python "
            f"{set_alias_line(name, alias, new_version)})")
