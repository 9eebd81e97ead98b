"""CLI: python -m train --config configs/tfidf.yaml [--set key.path=value ...]"""

import argparse
import sys

from train.config import load_config
from train.errors import UserError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train", description="Train a topic model from a YAML config.")
    parser.add_argument("--config", required=True, help="YAML config, e.g. configs/tfidf.yaml")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. --set model.tfidf.C=4 (repeatable)")
    args = parser.parse_args(argv)
    try:
        from train.run import train

        train(load_config(args.config, args.overrides))
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
