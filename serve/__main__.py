"""CLI: python -m serve tag --model M --input F --output F   |   python -m serve api --model M"""

from __future__ import annotations

import argparse
import os
import sys

from vnzh_runtime.errors import GivenOnce, UserError, run_cli


class OneLineParser(argparse.ArgumentParser):
    """A bad flag is one line, as every other user error: `error: ...`, exit 2 (not argparse's usage block)."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def threshold_arg(value: str):
    from vnzh_runtime.predictor import check_threshold

    try:
        return check_threshold("auto" if value.strip().lower() == "auto" else float(value), "value")
    except (UserError, ValueError) as err:
        raise argparse.ArgumentTypeError(str(err) if isinstance(err, UserError)
                                         else f"{value!r} is not a number from 0 to 1, or 'auto'") from None


def label_threshold(value: str) -> tuple[str, float]:
    label, sep, number = value.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"{value!r}: expected LABEL=VALUE, e.g. border_sea=0.3")
    try:
        threshold = float(number)
    except ValueError:
        threshold = float("nan")
    if not 0 <= threshold <= 1:
        raise argparse.ArgumentTypeError(f"{value!r}: the value is not a number from 0 to 1 (e.g. {label}=0.3)")
    return label, threshold


class LabelThresholds(argparse.Action):
    """--label-threshold LABEL=VALUE, repeatable for other labels; one label twice is refused (the last
    would win without a word, as a config key set twice would), by the subcommand's own parser."""

    def __call__(self, parser, namespace, values, option_string=None):
        label, _ = values
        given = getattr(namespace, self.dest)
        if label in dict(given):
            raise argparse.ArgumentError(self, f"{label} is given twice (fix: keep one)")
        setattr(namespace, self.dest, [*given, values])  # a new list: the default [] is shared


MAX_BATCH = 100_000  # a batch is held in memory with its scores: ~5 KB a paragraph (100,000: ~0.5 GB)


def batch_size(value: str) -> int:
    number = positive(value)
    if number > MAX_BATCH:
        raise argparse.ArgumentTypeError(f"{value} is over {MAX_BATCH:,}: a batch is held in memory whole (about "
                                         f"5 KB a paragraph); a larger one is no faster")
    return number


def positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return number


def port(value: str) -> int:
    number = positive(value)
    if number > 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port (1-65535)")
    return number


def check_port(host: str, port: int) -> None:
    """One line, before the model loads, for a port taken or a host not of this machine (uvicorn logs
    several lines and exits 3)."""
    import socket

    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET  # uvicorn's own rule for the socket it binds
        with socket.create_server((host, port), family=family):
            pass
    except OSError as err:
        raise UserError(f"{host}:{port}: cannot listen there ({err.strerror or err}); pick another --port or --host") from None


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m serve", description="Tag paragraphs with a trained topic model.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("tag", "tag a file in batches"), ("api", "serve the HTTP API")):
        # no abbreviations (--inp for --input): a folder's printed loop passes the flags on, and must know them
        sub = commands.add_parser(name, help=help_text, allow_abbrev=False)
        sub.add_argument("--model", action=GivenOnce, required=True, help="model directory or MLflow URI (models:/NAME@ALIAS)")
        sub.add_argument("--threshold", action=GivenOnce, type=threshold_arg, default=None,
                         help="abstain ('uncertain') below this top score, 0-1; 'auto' = the threshold chosen on dev")
        sub.add_argument("--label-threshold", dest="label_thresholds", action=LabelThresholds, default=[], type=label_threshold,
                         metavar="LABEL=VALUE", help="multi-label models: this label's threshold (repeatable)")
        sub.add_argument("--device", action=GivenOnce, choices=["auto", "cpu", "cuda"], default=None, help="transformers: where to run")
        sub.add_argument("--cpu-int8", action="store_true", default=None,
                         help="transformers on CPU: int8 linear layers, ~1.6x faster, scores shift slightly")
    commands.add_parser("spark", add_help=False,
                        help="tag a file or folder on Spark with the logged MLflow model (python -m serve spark --help)")
    tag = commands.choices["tag"]
    tag.add_argument("--input", action=GivenOnce, required=True, help=".jsonl/.ndjson (text, id, doc_id), .csv/.tsv (text column), a saved page (.html), a "
                          "feed (.xml: RSS, Atom) or a raw article (.txt); - for JSONL (or a page) on standard input")
    tag.add_argument("--output", action=GivenOnce, required=True, help="output .jsonl, .csv or .tsv; - for JSONL on standard output")
    tag.add_argument("--overwrite", action="store_true", help="replace an existing output file once the new one is complete")
    tag.add_argument("--batch-size", action=GivenOnce, type=batch_size, default=512, help="records read and tagged at a time")
    tag.add_argument("--quiet", action="store_true", help="no progress bar")
    tag.add_argument("--workers", action=GivenOnce, type=positive, default=None,
                     help="processes tagging batches in parallel (default: one per core, 1 for transformer models)")
    api = commands.choices["api"]
    api.add_argument("--host", action=GivenOnce, default="127.0.0.1")
    api.add_argument("--port", action=GivenOnce, type=port, default=8000)
    api.add_argument("--workers", action=GivenOnce, type=positive, default=2, help="inference threads (requests beyond wait their turn)")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["spark"]:  # its own flags and engine: serve/spark.py
        from serve.spark import main as spark_main

        return spark_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)

    def job() -> None:
        import vnzh_runtime

        if args.command == "tag":  # a refused output is said before the model loads
            from serve.many_inputs import check_one_input
            from serve.output import check_paths

            check_one_input(args.input, args.output, argv)
            check_paths(args.input, args.output, args.overwrite)
        else:
            check_port(args.host, args.port)
        if args.command == "tag" and args.quiet:  # transformers' "Loading weights" bars too, read at its import
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        options = {"device": args.device, "cpu_int8": args.cpu_int8}
        predictor = vnzh_runtime.load(args.model, threshold=args.threshold, options=options,
                                      label_thresholds=dict(args.label_thresholds))
        if args.threshold == "auto" and predictor.threshold is None:  # else it looks obeyed and never abstains
            print(f"note: {args.model} chose no threshold on dev (none kept 95 % of its dev predictions right), "
                  "so --threshold auto never abstains; give a number, e.g. --threshold 0.6", file=sys.stderr)
        ignored = [flag for flag, given in (("--device", args.device), ("--cpu-int8", args.cpu_int8)) if given]
        if ignored and predictor.spec["model_type"] == "tfidf":  # said, not refused: the tags are the same
            print(f"note: {' and '.join(ignored)} {'apply' if len(ignored) > 1 else 'applies'} to transformer models; "
                  f"{args.model} is a TF-IDF model, which runs on the CPU as it is", file=sys.stderr)
        if args.command == "tag":
            from serve.files import tag_file

            # Transformer models use all cores inside torch already; forking them only contends.
            default_workers = (os.cpu_count() or 1) if predictor.spec["model_type"] == "tfidf" else 1
            stats = tag_file(predictor, args.input, args.output, args.batch_size, progress=not args.quiet,
                             workers=args.workers or default_workers,  # SIGTERM stops like Ctrl-C (run_cli)
                             overwrite=args.overwrite)
            print(f"tagged {stats.tagged} of {stats.records} records ({stats.errors} errors) -> {args.output}", file=sys.stderr)
        else:
            import uvicorn

            from serve.api import create_app

            app = create_app(predictor, args.workers, source=args.model)
            uvicorn.run(app, host=args.host, port=args.port, timeout_keep_alive=5)

    return run_cli(job)


if __name__ == "__main__":
    sys.exit(main())
