"""The commands that an input file's error names as its fix: each writes its result beside the file,
under a name that no file has yet, since `>` empties a file before the command reads anything.

    >>> unpack_fix("feed.jsonl", "gzip -dc")
    'gzip -dc feed.jsonl > feed-unpacked.jsonl'
    >>> jq_fix("stdin", ".[]")
    "pipe it through jq -c '.[]' first"

A file that came over the network (`POST /tag/file`) is not on this machine: its fix is named
without looking at this machine's files (`uploaded`), which would also tell the sender what is here.
"""

from __future__ import annotations

import shlex
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

ARCHIVE_SUFFIXES = (".gz", ".zip", ".bz2", ".xz", ".zst")
TAR_SUFFIXES = (".tar", ".tgz", ".tar.gz", ".tar.bz2", ".tar.xz", ".tar.zst")
_LOCAL = ContextVar("fix_commands_local", default=True)  # whether the files named are this machine's


@contextmanager
def uploaded():
    """Fixes named inside this block are for a file on the sender's machine, not this one."""
    token = _LOCAL.set(False)
    try:
        yield
    finally:
        _LOCAL.reset(token)


def is_stream(name: str) -> bool:
    """Standard input or a device (/dev/stdin, /dev/fd/3): no file that a fix could read again."""
    return name == "stdin" or name.startswith("/dev/")


def unused(path: Path) -> Path:
    """`path`, or the first of `name-2.ext`, `name-3.ext`, ... that does not exist here."""
    candidate, number = path, 2
    while _LOCAL.get() and taken(candidate):
        candidate, number = path.with_name(f"{path.stem}-{number}{path.suffix}"), number + 1
    return candidate


def taken(path: Path) -> bool:
    try:
        return path.exists() or path.is_symlink()
    except OSError:  # a name too long to exist, a path no system call can look up
        return False


def shown(path) -> str:
    """A path as a shell argument: quoted, and never read as an option (`-x.jsonl` is `./-x.jsonl`)."""
    text = str(path)
    return shlex.quote(f"./{text}" if text.startswith("-") else text)


def beside(name: str, new_name: str) -> Path:
    return Path(name).with_name(new_name)


def written_to(command: str, target: Path) -> str:
    return f"{command} > {shown(unused(target))}"


def unpack_fix(name: str, command: str) -> str:
    """The command that writes an archive's contents beside it: `feed.jsonl.gz` to `feed.jsonl`, a
    `feed.jsonl` that is gzip inside to `feed-unpacked.jsonl` (never over the archive or another file)."""
    if is_stream(name):
        return f"pipe it through {command}"
    path = Path(name)
    target = path.with_suffix("") if path.suffix.lower() in ARCHIVE_SUFFIXES else \
        path.with_name(f"{path.stem}-unpacked{path.suffix}")
    return written_to(f"{command} {shown(name)}", target)


def tar_fix(name: str, compressed: str = "") -> str:
    """Unpack a tar archive where it lies, keeping any file already there (`-k`), to tag its files one by one."""
    if is_stream(name):
        return f"save it and unpack it with tar -xk{compressed}f FILE, then tag the files it holds"
    return f"tar -xk{compressed}f {shown(name)} -C {shown(Path(name).parent)}, then tag the files it holds"


def jq_fix(name: str, program: str) -> str:
    """The command that rewrites a file as JSON Lines, beside it."""
    if is_stream(name):
        return f"pipe it through jq -c {shlex.quote(program)} first"
    return written_to(f"jq -c {shlex.quote(program)} {shown(name)}", beside(name, Path(name).stem + "-lines.jsonl"))


def suffix_fix(name: str, suffix: str) -> str:
    """The command that copies a file under the suffix that says what it holds, beside it (never over a file)."""
    if is_stream(name):
        return f"save it as a {suffix} file and tag that"
    stem = Path(name).stem  # "feed.jsonl.1", a rotated log, is copied to feed.jsonl, not feed.jsonl.jsonl
    stem = stem[:-len(suffix)] if stem.lower().endswith(suffix) and len(stem) > len(suffix) else stem
    return f"cp -n {shown(name)} {shown(unused(beside(name, stem + suffix)))}, then tag the copy"


def cr_fix(name: str) -> str:
    if is_stream(name):
        return "pipe it through tr '\\r' '\\n'"
    return written_to(f"tr '\\r' '\\n' < {shown(name)}", beside(name, Path(name).stem + "-lines.jsonl"))


# pdftotext wraps a paragraph over many lines and leaves a blank line between paragraphs (-layout keeps
# columns, not paragraphs): awk's paragraph mode joins each block into the one line a paragraph is here.
JOIN_PARAGRAPHS = "awk 'BEGIN { RS = \"\" } { gsub(/\\n/, \" \"); print }'"


def pdf_fix(name: str) -> str:
    if is_stream(name):
        return f"pdftotext FILE.pdf - | {JOIN_PARAGRAPHS}"
    text = beside(name, Path(name).stem + ".txt")
    text = beside(name, Path(name).stem + "-text.txt") if text.name == Path(name).name else text  # a PDF named .txt
    return f"pdftotext {shown(name)} - | {JOIN_PARAGRAPHS} > {shown(unused(text))}"


def iconv_fix(name: str, encoding: str, first: bytes) -> str:
    """Re-encode a UTF-16/32 file as UTF-8. Excel's "Unicode Text" is a tab-separated table: with a
    `text` column in its header it is named .csv, so that it is read as the table it is.

    >>> iconv_fix("u.txt", "UTF-16", "ID\\tText\\r\\n".encode("utf-16"))
    'iconv -f UTF-16 -t UTF-8 u.txt > u-utf8.csv'
    """
    if is_stream(name):
        return f"pipe it through iconv -f {encoding} -t UTF-8"
    header = (first.decode(encoding.lower(), "replace").splitlines() or [""])[0]  # a BOM alone: an empty file
    table = "\t" in header and "text" in (column.strip().lower() for column in header.split("\t"))
    path = Path(name)
    target = path.with_name(f"{path.stem}-utf8{'.csv' if table else path.suffix}")
    return written_to(f"iconv -f {encoding} -t UTF-8 {shown(name)}", target)
