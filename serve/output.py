"""Where `serve tag`'s tags go, checked before any work: a file (written beside its target and
renamed into place: `serve.partial`), or a stream.

    >>> check_paths("in.jsonl", "tags.jsonl"); is_stream("tags.jsonl"), is_stream("-")
    (False, True)

Standard output ("-", /dev/stdout, /dev/fd/N) and existing character devices, pipes and
sockets have no file to replace and are written through (`StreamOutput`).
"""

from __future__ import annotations

import errno
import os
import re
import stat
import sys
from pathlib import Path

from serve.readers import STDIN
from serve.tagging import TagStats
from vnzh_runtime.errors import UserError, discard_writes
from vnzh_runtime.fix_commands import ARCHIVE_SUFFIXES, TAR_SUFFIXES
from vnzh_runtime.folders import SCRATCH_NAME_EXTRA, name_max
from vnzh_runtime.spec import enclosing_model_dir

STDOUT = "-"  # --output -: the tags on standard output
# Names of an already open descriptor: written to it directly, so a shell's `>> log` still appends.
_OPEN_FD = re.compile(r"/dev/(?:(stdout)|(stderr)|fd/(\d+))|/proc/self/fd/(\d+)")


OUT_OF_SPACE = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)  # a full disk, a quota, a file-size limit


# Output names that promise a format `serve tag` does not write (CSV for .csv, TSV for .tsv, else JSON Lines):
# a .json file is one JSON document to `json.load` and to every JSON tool, which JSON Lines is not
NOT_WRITTEN = (".json", ".parquet", ".xlsx", ".xls", ".ods", ".feather", ".arrow", ".avro", ".orc", ".pdf", ".docx",
               *ARCHIVE_SUFFIXES, *TAR_SUFFIXES)


def check_paths(input_path: str, output_path: str, overwrite: bool = False) -> None:
    if not output_path.strip():  # `--output "$OUT"` with OUT unset
        raise UserError("--output is empty; name an output file, e.g. tags.jsonl, or - for standard output")
    if output_path.lower().endswith(NOT_WRITTEN):
        raise UserError(f"{output_path}: serve tag writes JSON Lines, CSV or TSV, not {Path(output_path).suffix}; "
                        "name the output .jsonl, .csv or .tsv (and convert or compress it afterwards)")
    if input_path == STDIN and sys.stdin is None:  # `<&-`: Python has no standard input to read
        raise UserError("--input -: standard input is closed; pipe the records in, or give the input file's name")
    if is_stream(output_path):
        check_stream(input_path, output_path)
        return
    for path in (input_path, output_path):
        if is_symlink_loop(path):
            raise UserError(f"{path}: a symbolic link that leads back to itself; point it at a file or remove it")
    try:
        check_file_paths(input_path, output_path, overwrite)
    except OSError as err:  # e.g. a path the system cannot even look up
        raise UserError(f"{output_path}: cannot check it ({err.strerror}); choose another output") from None


def is_symlink_loop(path: str) -> bool:
    """Whether a path leads round symbolic links for ever (Path.resolve would stop with a RuntimeError)."""
    try:
        os.stat(path)
    except OSError as err:
        return err.errno == errno.ELOOP
    return False


def check_file_paths(input_path: str, output_path: str, overwrite: bool) -> None:
    source, target = Path(input_path), Path(output_path)
    longest, length = name_max(target.parent) - SCRATCH_NAME_EXTRA, len(os.fsencode(target.name))
    if length > longest:
        raise UserError(f"{output_path}: the file name is {length} bytes long; the file written "
                        f"beside it until the run completes needs a name of at most {longest} (fix: a shorter name)")
    if source.resolve() == target.resolve() or (target.exists() and source.exists() and os.path.samefile(source, target)):
        raise UserError(f"{output_path}: the output is the input file; write the tags to another file")
    if target.exists() and same_file(input_stat(input_path), os.stat(target)):  # --input - < out.jsonl
        raise UserError(f"{output_path}: the output is the input file (standard input reads it); "
                        "write the tags to another file")
    if target.is_dir():
        raise UserError(f"{output_path}: is a directory; name an output file, e.g. {target / 'tags.jsonl'}")
    if output_path.endswith(("/", os.sep)):  # Path drops the slash that says "a folder": a file named results
        raise UserError(f"{output_path}: ends in a slash, so names a folder; name an output file, "
                        f"e.g. {target / 'tags.jsonl'}")
    if target.exists() and not target.is_file():
        raise UserError(f"{output_path}: is not a regular file, a pipe or a terminal; name an output file")
    if target.exists() and not overwrite:  # as `train` and `serve spark`: nothing is replaced unasked
        raise UserError(f"{output_path}: exists (fix: pass --overwrite to replace it once the new tags are complete, "
                        "or name another output)")
    inside = enclosing_model_dir(target)
    if inside is not None:
        raise UserError(f"{output_path}: lies inside the model directory {inside} (under its model/, the model would "
                        "then refuse to load; elsewhere, training could no longer replace it) (fix: write the tags "
                        "outside it)")
    parent = target.resolve().parent
    if parent.exists() and not parent.is_dir():
        raise UserError(f"{output_path}: {parent} is a file, not a directory; name an output in a directory")
    if not parent.is_dir():
        raise UserError(f"{output_path}: the directory {parent} does not exist; create it first")


STDIN_PATHS = ("/dev/stdin", "/dev/fd/0", "/proc/self/fd/0")


def check_stream(input_path: str, output_path: str) -> None:
    """A descriptor that is the input file (`--output - >> in.jsonl`) would be read back as it is
    written, growing the file until the disk is full."""
    fd = open_descriptor(output_path)
    try:
        written = os.fstat(fd) if fd is not None else os.stat(output_path)
    except OSError:
        return
    if same_file(input_stat(input_path), written):
        if input_path == STDIN or input_path in STDIN_PATHS:  # named by its path: "/dev/stdin" says not which file
            real = os.path.realpath("/dev/stdin")
            what = f"the file standard input reads, {real} (a `< {real} >> {real}`?)"
        else:
            what = f"the input file {input_path} (a `>> {input_path}`?)"
        stream = "standard output" if output_path == STDOUT or fd == 1 else "this descriptor"
        raise UserError(f"{output_path}: {stream} is {what}, which would be read back as it is written; "
                        "write the tags to another file")


def input_stat(input_path: str) -> os.stat_result | None:
    """What the input is on disk (`--input -`: the file standard input reads, if any), or None."""
    try:
        return os.fstat(sys.stdin.fileno()) if input_path == STDIN else os.stat(input_path)
    except (OSError, ValueError, AttributeError):  # no standard input at all (closed, or replaced by a test)
        return None


def same_file(read: os.stat_result | None, written: os.stat_result) -> bool:
    """Whether the output is the very regular file the input is: its tags would be read back, or replace it."""
    return (read is not None and stat.S_ISREG(written.st_mode)
            and (written.st_dev, written.st_ino) == (read.st_dev, read.st_ino))


def open_descriptor(output_path: str) -> int | None:
    """The descriptor `output_path` names ("-", /dev/stdout, /dev/fd/3, ...), or None."""
    if output_path == STDOUT:
        if sys.stdout is None:  # `>&-`: Python has no standard output to write
            raise UserError("--output -: standard output is closed; name an output file, e.g. tags.jsonl")
        return sys.stdout.fileno()
    found = _OPEN_FD.fullmatch(output_path)
    if not found:
        return None
    return 1 if found[1] else 2 if found[2] else int(found[3] or found[4])


def is_stream(output_path: str) -> bool:
    if open_descriptor(output_path) is not None:
        return True
    try:
        mode = os.stat(output_path).st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


class StreamOutput:
    """A text handle on a stream; a reader that goes away (`| head`) ends the run in one line."""

    def __init__(self, output_path: str, stats: TagStats):
        self.output_path, self.stats = output_path, stats
        self.fd = open_descriptor(output_path)
        try:
            self.handle = (open(self.fd, "w", encoding="utf-8", newline="", closefd=False) if self.fd is not None
                           else open(output_path, "w", encoding="utf-8", newline=""))
        except OSError as err:
            raise UserError(f"{output_path}: cannot write ({err.strerror}); choose another output") from None

    def __enter__(self):
        return self.handle

    def __exit__(self, kind, error, trace) -> None:
        try:
            self.handle.close()
        except BrokenPipeError:
            kind = kind or BrokenPipeError
        except OSError as err:  # the last flush: a full disk (--output /dev/full, a file that is a device)
            kind, error = kind or type(err), error or err
        if kind is not None and issubclass(kind, OSError) and getattr(error, "errno", None) in OUT_OF_SPACE:
            raise UserError(f"{self.output_path}: cannot write ({error.strerror}) after {self.stats.records} records "
                            "were tagged; free space, or choose another output, and run again") from None
        if kind is not None and issubclass(kind, BrokenPipeError):
            if self.fd is not None:  # later flushes of this descriptor go nowhere instead of failing again
                discard_writes(self.fd)
            raise UserError(f"{self.output_path}: the reader closed it after {self.stats.records} records were tagged") from None
