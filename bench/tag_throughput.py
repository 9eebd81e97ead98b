"""End-to-end batch tagging speed: process start, read, tag, write (issue: >= 3,000 paragraphs/s).

    python bench/tag_throughput.py --model models/tfidf --n 50000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, paragraphs  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/tfidf")
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp, "in.jsonl"), Path(tmp, "out.jsonl")
        with src.open("w", encoding="utf-8") as handle:
            for i, text in enumerate(paragraphs(args.n)):
                handle.write(json.dumps({"id": i, "text": text}, ensure_ascii=False) + "\n")
        rates = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "serve", "tag", "--model", args.model, "--input", str(src),
                            "--output", str(dst), "--quiet", "--overwrite"], check=True, stderr=subprocess.DEVNULL)
            seconds = time.perf_counter() - started
            assert sum(1 for _ in dst.open(encoding="utf-8")) == args.n
            rates.append(args.n / seconds)
            print(f"{args.n} paragraphs in {seconds:.2f} s end to end: {args.n / seconds:,.0f} paragraphs/s")
    print(f"best {max(rates):,.0f} paragraphs/s, median {sorted(rates)[len(rates) // 2]:,.0f}; model {args.model}; {machine()}")


if __name__ == "__main__":
    main()
