"""`python -m train.evaluate`: any model (a directory or an MLflow URI) on labelled JSONL files,
with the tables training prints (`train.scores`); `--log` records an MLflow evaluation run linked to it:

    $ python -m train.evaluate --model models/tfidf --data my_sample.jsonl [--log]

A sample line needs `text` and `labels` (or a single `label`); `id` (any JSON scalar, as
`serve tag` takes), `lang`, `doc_id`, `source` and `split` are optional (`train.samples`). A
directory given to `--data` is read as the *.jsonl files in it, and `-` as standard input.
"""

from __future__ import annotations

from train.scores import dev_not_held_out, evaluate_records, format_report
from vnzh_runtime.errors import GivenOnce


def main(argv: list[str] | None = None) -> int:
    import argparse

    from train.samples import SAMPLE_FIELDS
    from vnzh_runtime.errors import run_cli

    parser = argparse.ArgumentParser(prog="python -m train.evaluate", description="Evaluate a model on labelled JSONL.")
    parser.add_argument("--model", action=GivenOnce, required=True, help="model directory or MLflow URI (models:/NAME@ALIAS)")
    parser.add_argument("--data", nargs="+", action="extend", required=True,  # --data A --data B: both
                        help="labelled JSONL files, globs, or directories (a directory: the *.jsonl files in it; "
                             "-: standard input); "
                             f"{SAMPLE_FIELDS} (a single \"label\" is read as labels: [label])")
    parser.add_argument("--log", action="store_true", help="record an MLflow evaluation run linked to the model")
    parser.add_argument("--against", action=GivenOnce, metavar="OTHER_MODEL",
                        help="also score this model on the same records and print the two side by side, paired "
                             "(paragraphs only one gets right, and a sign test)")
    parser.add_argument("--predictions", action=GivenOnce, metavar="FILE.jsonl",
                        help="also write each evaluated record with the label it was scored by and whether it is "
                             "right (a new file)")
    args = parser.parse_args(argv)
    return run_cli(lambda: evaluate_command(args))


def evaluate_command(args) -> None:
    from contextlib import nullcontext

    from train.predictions_file import PredictionsFile

    with PredictionsFile(args.predictions) if args.predictions is not None else nullcontext() as predictions:
        evaluate_into(args, predictions)  # the file checked and its scratch made before any work


def load_models(args):
    """The model and `--against`'s, each refused in one line before any work where it cannot be used."""
    import vnzh_runtime
    from train.compare import check_same_labels, load_against
    from vnzh_runtime.errors import UserError

    for flag, model in (("--model", args.model), ("--against", args.against)):
        if model is not None and not model.strip():  # else read as the current folder
            raise UserError(f"{flag} {model!r}: name a model directory or an MLflow URI (models:/NAME@ALIAS)")
    predictor = vnzh_runtime.load(args.model)
    other = load_against(args.against) if args.against is not None else None
    if other is not None:
        check_same_labels(predictor.labels, other.labels, args.against)
    return predictor, other


def evaluate_into(args, predictions) -> None:
    from vnzh_runtime.errors import UserError

    if args.log:  # a store that cannot take the run: one line now, not a traceback after the tables
        from train.tracking import refuse_deleted
        from train.tracking_eval import EVALUATIONS
        from train.tracking_store import check_tracking_server

        check_tracking_server(EVALUATIONS)
        refuse_deleted(EVALUATIONS, "the evaluations experiment", renamable=False)
    predictor, other = load_models(args)
    if args.log:  # which version an alias names now, not after the evaluation (a training run may move it)
        from train.tracking_eval import as_this_store_knows_it
        from vnzh_runtime.provenance import model_info

        info = as_this_store_knows_it(model_info(predictor, args.model), args.model)
    from train.record_checks import repeated_texts
    from train.samples import load_labelled, trim_labels

    labelled = load_labelled(args.data, predictor.labels)
    records = [r for r in labelled if r.split != "train"]
    if not records:
        raise UserError(f"{' '.join(args.data)}: no labelled dev or test records to evaluate on")
    repeated = repeated_texts(records, listed_by=None)
    if repeated:
        print(repeated + "\n")
    if len(records) < len(labelled):
        print(f"note: {len(labelled) - len(records)} records of split train left out (training data says nothing "
              "of how a model does on text it has not seen)\n")
    if predictor.multilabel:
        records, trimmed = trim_labels(records, predictor.labels)
        if trimmed:
            names = "records name" if trimmed > 1 else "record names"
            print(f"note: {trimmed} {names} a second topic this model lacks; their label sets are scored without it, "
                  "as training scores them\n")
    results, probs = evaluate_records(predictor, records)
    report = format_report(results, detailed=("dev", "test", "seed"))  # a user's sample may be all dev
    dev_seen = dev_not_held_out(predictor, records)
    if dev_seen:
        # the model keeps no list of its dev records: a user's own dev sample may well be held out
        report = ("note: this model was fitted on its corpus's train + dev (refit_on_dev): dev records of that corpus "
                  "are not held out, so its dev figures on them are not held out\n\n" + report)
    set_metrics, sets = {}, None
    if predictor.multilabel:
        from train.multilabel import label_set_metrics, predicted_sets

        sets = predicted_sets(predictor, records)
        set_metrics, set_report = label_set_metrics(predictor, records, predicted=sets)
        report += "\n\n" + set_report
    print(report)
    if other is not None:
        from train.compare import against_table

        paired = against_table(records, results, probs, predictor.labels, other, args.against)
        print("\n" + paired)
        report += "\n\n" + paired  # logged with the tables
    if predictions:
        wrong = predictions.write(records, probs, predictor.labels, sets)
        print(f"\npredictions: {predictions.target} ({len(records)} record{'s' * (len(records) != 1)}, {wrong} wrong)")
    if args.log:
        from train.tracking_eval import log_evaluation_run

        run_id = log_evaluation_run(args.model, predictor.spec, info, results, report, args.data, records,
                                    set_metrics, dev_seen, against=args.against)
        print(f"\nMLflow evaluation run: {run_id}")


if __name__ == "__main__":
    raise SystemExit(main())
