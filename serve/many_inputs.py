"""`serve tag --input` naming many files (a folder, or a glob in quotes the shell did not expand): serve
tag reads one file, so the error is the loop that tags each, into a new folder beside them (a rerun
does not read its outputs), ready to paste. The paths in it are quoted for the shell, so a file name
such as `n.$(touch x)` is text, not a command:

    >>> shell_glob("my dir/x *.txt")
    "'my dir/x '*.txt"
    >>> other_flags(["tag", "--model", "m", "--input=a b", "--output", "o.csv", "--threshold", "auto"])
    ['--model', 'm', '--threshold', 'auto']
"""

from __future__ import annotations

import glob
import os
import re
import shlex
from pathlib import Path

from serve.readers import STDIN
from vnzh_runtime.errors import UserError

_WILDCARD = re.compile(r"[*?]|\[[^\]/]+\]")  # a wildcard, a class as Python's glob reads it


def shell_glob(pattern: str) -> str:
    """A glob as the shell must read it to match what Python's did: each run of plain characters quoted,
    its wildcards bare."""
    pieces, last = [], 0
    for wildcard in _WILDCARD.finditer(pattern):
        if wildcard.start() > last:
            pieces.append(shlex.quote(pattern[last:wildcard.start()]))
        pieces.append(bash_class(wildcard.group()) if wildcard.group().startswith("[") else wildcard.group())
        last = wildcard.end()
    if last < len(pattern):
        pieces.append(shlex.quote(pattern[last:]))
    return "".join(pieces)


def other_flags(argv: list[str]) -> list[str]:
    """The command's flags but --input and --output (and the subcommand): the loop's own command keeps
    every setting the user gave (a threshold, label thresholds, workers)."""
    kept, skip = [], False
    for arg in argv[1:] if argv[:1] == ["tag"] else argv:
        if skip:
            skip = False
        elif arg in ("--input", "--output"):
            skip = True
        elif not arg.startswith(("--input=", "--output=")):
            kept.append(arg)
    return kept


def bash_class(found: str) -> str:
    r"""A character class as Python's glob reads it, for bash: "!" negates, "^" is a character (bash would
    negate), and every character escaped (a space, a "$").

    >>> bash_class("[^a ]"), bash_class("[!x]")
    ('[\\^\\a\\ ]', '[!\\x]')
    """
    negated, characters = found[1] == "!", found[1:-1]
    return "[" + ("!" if negated else "") + "".join("\\" + c for c in characters[negated:]) + "]"


def check_one_input(input_path: str, output_path: str, argv: list[str]) -> None:
    """Nothing for one file (or standard input); for a folder or a glob, the one-line error with its loop."""
    folder = Path(input_path) if input_path != STDIN and Path(input_path).is_dir() else None
    if folder is None and not (glob.has_magic(input_path) and not os.path.lexists(input_path)):
        return
    if folder is not None:
        if not any(child.is_file() and not child.name.startswith(".") for child in folder.iterdir()):
            raise UserError(f"{input_path}: holds no file to tag (hidden files and folders aside); name a file, or one of "
                            "its folders")
        head = str(folder).rstrip("/") or "/"
        pattern, kind = shlex.quote(head) + "/*", "a folder"  # the shell's * leaves hidden files out too
    else:
        found = sum(os.path.isfile(match) for match in glob.glob(input_path))
        if not found:
            raise UserError(f"{input_path}: a pattern that matches no file; check the path")
        head = os.path.dirname(input_path)
        pattern, kind = shell_glob(input_path), f"a pattern of {found} file{'s' if found != 1 else ''}"
    if glob.has_magic(head) and folder is None:  # data/*/x.jsonl: day1/x and day2/x apart, each beside its folder
        make, out, per_file = "", '"$d"', 'd="$(dirname -- "$f")-tags"; mkdir -p -- "$d"; '
    else:
        out = shlex.quote(f"{head.rstrip('/')}-tags" if head.strip("/.") else "tags")
        make, per_file = f"mkdir -p -- {out}; ", ""
    suffix = Path(output_path).suffix.lower() if Path(output_path).suffix.lower() in (".csv", ".tsv") else ".jsonl"
    command = shlex.join(["python", "-m", "serve", "tag", *other_flags(argv)])
    # a.txt and a.html get a.txt.jsonl and a.html.jsonl; --input=: a name that starts with "-" is no flag
    raise UserError(f"{input_path}: {kind}; serve tag reads one file, so tag each: {make}for f in {pattern}; "
                    f"do [ -f \"$f\" ] || continue; {per_file}{command} --input=\"$f\" --output={out}/\"$(basename -- "
                    f"\"$f\")\"{suffix}; done (or python -m serve spark, which reads a folder of .jsonl or .csv records whole)")
