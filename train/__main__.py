"""CLI: python -m train --config configs/tfidf.yaml [--set key.path=value ...] [--overwrite]"""

import argparse
import sys
import time

from vnzh_runtime.errors import GivenOnce, run_cli


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train", description="Train a topic model from a YAML config.")
    parser.add_argument("--config", action=GivenOnce, required=True, help="YAML config, e.g. configs/tfidf.yaml")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. --set model.tfidf.C=4 (repeatable)")
    parser.add_argument("--overwrite", action="store_true", help="replace the model directory of an earlier run")
    args = parser.parse_args(argv)

    started, output_dir = time.time(), []

    def job() -> None:
        from train.config import load_config
        from train.run import train

        config = load_config(args.config, args.overrides)
        output_dir.append(config.output_dir)
        train(config, overwrite=args.overwrite)

    def interrupted() -> str:
        from train.modeldir import interrupted_note

        return interrupted_note(output_dir[0], started) if output_dir else "interrupted"

    return run_cli(job, interrupted)


if __name__ == "__main__":
    sys.exit(main())
