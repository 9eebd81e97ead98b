"""CLI: python -m serve tag --model M --input F --output F   |   python -m serve api --model M"""

from __future__ import annotations

import argparse
import os
import sys

from train.errors import UserError


def threshold_arg(value: str):
    return value if value == "auto" else float(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m serve", description="Tag paragraphs with a trained topic model.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("tag", "tag a file in batches"), ("api", "serve the HTTP API")):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--model", required=True, help="model directory or MLflow URI (models:/NAME@ALIAS)")
        sub.add_argument("--threshold", type=threshold_arg, default=None,
                         help="abstain ('uncertain') below this top score; 'auto' = the threshold chosen on dev")
    tag = commands.choices["tag"]
    tag.add_argument("--input", required=True, help=".jsonl (text, id), .csv (text column) or a raw article (.txt)")
    tag.add_argument("--output", required=True, help="output .jsonl, or .csv")
    tag.add_argument("--batch-size", type=int, default=512)
    tag.add_argument("--quiet", action="store_true", help="no progress bar")
    tag.add_argument("--workers", type=int, default=None,
                     help="processes tagging batches in parallel (default: one per core, 1 for transformer models)")
    api = commands.choices["api"]
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8000)
    api.add_argument("--workers", type=int, default=2, help="inference threads (requests beyond wait their turn)")
    args = parser.parse_args(argv)
    try:
        from serve.loading import load_predictor

        predictor = load_predictor(args.model, threshold=args.threshold)
        if args.command == "tag":
            from serve.tagging import tag_file

            # Transformer models use all cores inside torch already; forking them only contends.
            default_workers = (os.cpu_count() or 1) if predictor.meta.get("model_type") == "tfidf" else 1
            stats = tag_file(predictor, args.input, args.output, args.batch_size, progress=not args.quiet,
                             workers=args.workers or default_workers)
            print(f"tagged {stats.tagged} of {stats.records} records ({stats.errors} errors) -> {args.output}", file=sys.stderr)
        else:
            import uvicorn

            from serve.api import create_app

            uvicorn.run(create_app(predictor, args.workers), host=args.host, port=args.port)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
