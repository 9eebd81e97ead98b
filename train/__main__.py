"""CLI: python -m train --config configs/tfidf.yaml [--set key.path=value ...] [--overwrite]"""

import argparse
import sys

from vnzh_runtime.errors import run_cli


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train", description="Train a topic model from a YAML config.")
    parser.add_argument("--config", required=True, help="YAML config, e.g. configs/tfidf.yaml")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. --set model.tfidf.C=4 (repeatable)")
    parser.add_argument("--overwrite", action="store_true", help="replace the model directory of an earlier run")
    args = parser.parse_args(argv)

    def job() -> None:
        from train.config import load_config
        from train.run import train

        train(load_config(args.config, args.overrides), overwrite=args.overwrite)

    return run_cli(job, "interrupted; the model directory holds the previous model, or the new one whole if it was finished")


if __name__ == "__main__":
    sys.exit(main())
