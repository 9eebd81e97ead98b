"""`serve spark` (local mode) against `serve tag`: paragraphs/s on the same file, same model, same machine.

    python bench/spark_throughput.py --model models:/vn-china-topics-tfidf@champion --n 200000

Both read the same JSONL (id, text) and write JSONL, each as its own process, timed from
process start to exit. Spark's figure is also given with its start-up excluded: the time
`serve spark` reports after its session is up (model download, jobs, writing, counting).
The two outputs are checked to carry the same labels and scores.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, paragraphs  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def timed(command: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stderr[-3000:]}")
    return seconds, done.stderr


def tags(lines) -> list[tuple]:
    return [(row.get("label"), tuple(sorted((row.get("scores") or {}).items()))) for row in map(json.loads, lines)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models:/vn-china-topics-tfidf@champion", help="an MLflow model URI")
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--master", default="local[*]")
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{ROOT / 'mlflow.db'}")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp, "in.jsonl")
        with src.open("w", encoding="utf-8") as handle:
            for i, text in enumerate(paragraphs(args.n)):
                handle.write(json.dumps({"id": i, "text": text}, ensure_ascii=False) + "\n")
        results: dict[str, list[float]] = {"serve tag": [], "serve spark": [], "serve spark, start-up excluded": []}
        for repeat in range(args.repeats):
            out = Path(tmp, "tag.jsonl")
            seconds, _ = timed([sys.executable, "-m", "serve", "tag", "--model", args.model, "--input", str(src),
                                "--output", str(out), "--quiet", "--overwrite"])
            results["serve tag"].append(args.n / seconds)
            print(f"serve tag:   {args.n} paragraphs in {seconds:6.1f} s: {args.n / seconds:8,.0f} paragraphs/s", flush=True)

            folder = Path(tmp, f"spark-{repeat}.jsonl")
            seconds, err = timed([sys.executable, "-m", "serve", "spark", "--model", args.model, "--input", str(src),
                                  "--output", str(folder), "--master", args.master, "--quiet"])
            inside = float(re.search(r"\[([\d.]+) s tagging, ([\d.]+) s Spark start-up\]", err).group(1))
            results["serve spark"].append(args.n / seconds)
            results["serve spark, start-up excluded"].append(args.n / inside)
            print(f"serve spark: {args.n} paragraphs in {seconds:6.1f} s: {args.n / seconds:8,.0f} paragraphs/s "
                  f"({inside:.1f} s after start-up: {args.n / inside:,.0f}/s)", flush=True)
            spark_lines = [line for part in sorted(folder.glob("part-*")) for line in part.open(encoding="utf-8")]
            assert len(spark_lines) == args.n
            assert tags(spark_lines) == tags(out.open(encoding="utf-8")), "serve spark and serve tag disagree"
    best = {name: max(rates) for name, rates in results.items()}
    for name, rate in best.items():
        print(f"best {name}: {rate:,.0f} paragraphs/s ({rate / best['serve tag']:.2f}x serve tag)")
    print(f"model {args.model}; {args.n} paragraphs; master {args.master}; {machine()}")


if __name__ == "__main__":
    main()
