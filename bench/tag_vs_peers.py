"""`serve tag` end to end against fastText and against the previous scikit-learn path, in one run.

    python bench/tag_vs_peers.py --sizes 1000 50000 500000 [--old-checkout /tmp/old] [--repeat 3]

- **ours:** `python -m serve tag` on a JSONL file of N corpus paragraphs (process start,
  model load, reading, tagging with 2 workers, writing), with the child's peak memory;
- **fastText:** a supervised model trained on the same train split (`pip install
  fasttext-numpy2`; dominant labels, its own simple preprocessing: lowercase, Han characters
  spaced), predicting the same N paragraphs in one process, file in and labels out,
  including its process start and model load;
- **old:** the same `serve tag` command in a checkout of the previous scikit-learn
  pipeline (`git worktree add /tmp/old f1a6074`, with its model trained there), if given.

Each command runs `--repeat` times per size, interleaved with the others, and the fastest run
counts, as `timeit` reports: on a shared machine the slower runs measure its other load.
Also prints each model's test macro-F1, so speed is read next to quality.
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
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import machine, paragraphs  # noqa: E402

FASTTEXT_SCRIPT = r"""
import re, sys, time
import fasttext
HAN = re.compile(r"([\u3400-\u9fff])")
def prep(text):
    return HAN.sub(r" \1 ", text.lower().replace("\n", " "))
model = fasttext.load_model(sys.argv[1])
texts = [line.rstrip("\n") for line in open(sys.argv[2], encoding="utf-8")]
labels, _ = model.predict([prep(t) for t in texts])
with open(sys.argv[3], "w", encoding="utf-8") as out:
    out.writelines(label[0] + "\n" for label in labels)
"""


def timed(command: list[str], cwd: str | None = None) -> tuple[float, float]:
    """(seconds, peak resident MB of the command and its workers, from GNU time run by a small process)."""
    with tempfile.NamedTemporaryFile("r") as report:
        started = time.perf_counter()
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", report.name, *command], check=True, cwd=cwd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds = time.perf_counter() - started
        return seconds, int(report.read().split()[-1]) / 1024


def train_fasttext(workdir: Path) -> tuple[str, float]:
    import fasttext
    from sklearn.metrics import f1_score

    from train.data import DEFAULT_FILES, LABELS, by_split, load_records

    exec(FASTTEXT_SCRIPT.split("model = ")[0], namespace := {})
    prep = namespace["prep"]
    splits = by_split(load_records(DEFAULT_FILES), LABELS)
    train_file = workdir / "fasttext.train"
    train_file.write_text("".join(f"__label__{r.label} {prep(r.text)}\n" for r in splits["train"]), encoding="utf-8")
    model = fasttext.train_supervised(str(train_file), epoch=25, lr=0.5, wordNgrams=2, minCount=1, verbose=0, seed=13)
    path = workdir / "fasttext.bin"
    model.save_model(str(path))
    predicted = [labels[0].removeprefix("__label__") for labels in model.predict([prep(r.text) for r in splits["test"]])[0]]
    return str(path), float(f1_score([r.label for r in splits["test"]], predicted, average="macro"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/tfidf")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 50000])
    parser.add_argument("--old-checkout", default=None, help="a checkout of f1a6074 with models/tfidf trained in it")
    parser.add_argument("--repeat", type=int, default=3, help="runs per command and size; the fastest counts")
    args = parser.parse_args()
    try:
        import fasttext  # noqa: F401
    except ImportError:
        raise SystemExit("error: the fastText peer needs its package: pip install fasttext-numpy2") from None
    with tempfile.TemporaryDirectory(prefix="tag-vs-peers-") as scratch:  # ~800 MB of model and files: removed
        compare(args, Path(scratch))


def compare(args, work: Path) -> None:
    ft_model, ft_f1 = train_fasttext(work)
    ours_f1 = json.loads(Path(args.model, "meta.json").read_text(encoding="utf-8"))["metrics"]["test_macro_f1"]
    print(f"machine: {machine()}\ntest macro-F1: ours {ours_f1:.3f}, fastText {ft_f1:.3f}")
    script = work / "fasttext_predict.py"
    script.write_text(FASTTEXT_SCRIPT, encoding="utf-8")
    print(f"{'N':>8} {'ours /s':>9} {'MB':>5} {'fastText /s':>12} {'MB':>5} {'old /s':>8} {'MB':>5} {'ours/fastText':>14} {'ours/old':>9}")
    for n in args.sizes:
        texts = paragraphs(n)
        src, plain = work / f"in-{n}.jsonl", work / f"in-{n}.txt"
        src.write_text("".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in enumerate(texts)),
                       encoding="utf-8")
        plain.write_text("".join(t.replace("\n", " ") + "\n" for t in texts), encoding="utf-8")
        commands = {"ours": ([sys.executable, "-m", "serve", "tag", "--model", args.model, "--input", str(src),
                              "--output", str(work / "out.jsonl"), "--quiet", "--overwrite"], None),
                    "fast": ([sys.executable, str(script), ft_model, str(plain), str(work / "ft.out")], None)}
        if args.old_checkout:
            commands["old"] = ([sys.executable, "-m", "serve", "tag", "--model", "models/tfidf", "--input", str(src),
                                "--output", str(work / "old.jsonl"), "--quiet"], args.old_checkout)
        runs = {name: [] for name in commands}
        for _ in range(args.repeat):  # interleaved, so a burst of load elsewhere hits every command alike
            for name, (command, cwd) in commands.items():
                runs[name].append(timed(command, cwd))
        best = {name: (min(s for s, _ in r), max(mb for _, mb in r)) for name, r in runs.items()}
        ours, fast, old = best["ours"], best["fast"], best.get("old", (float("nan"), float("nan")))
        rate = [n / ours[0], n / fast[0], n / old[0]]
        print(f"{n:>8} {rate[0]:>9,.0f} {ours[1]:>5.0f} {rate[1]:>12,.0f} {fast[1]:>5.0f} {rate[2]:>8,.0f} {old[1]:>5.0f}"
              f" {rate[0] / rate[1]:>13.2f}x {rate[0] / rate[2]:>8.2f}x", flush=True)


if __name__ == "__main__":
    main()
