"""Where `serve tag`'s tags go: a file that replaces its target only when complete, or a stream.

    >>> check_paths("in.jsonl", "tags.jsonl"); is_stream("tags.jsonl"), is_stream("-")
    (False, True)

A file is written beside its target (`open_partial`, with the mode of the file it replaces, or
the umask's) and renamed into place; a run stopped midway keeps what it wrote as
`<output>.partial`, or `.partial-2`, ... beside a file of that name (`set_aside`): nothing
the user has is written over. Standard output ("-", /dev/stdout, /dev/fd/N) and existing
character devices, pipes and sockets have no file to replace and are written through.
"""

from __future__ import annotations

import csv
import errno
import os
import re
import stat
import sys
import tempfile
from pathlib import Path

from serve.tagging import TagStats
from vnzh_runtime.errors import UserError, discard_writes
from vnzh_runtime.permissions import umask_mode
from vnzh_runtime.spec import enclosing_model_dir

STDOUT = "-"  # --output -: the tags on standard output
# Names of an already open descriptor: written to it directly, so a shell's `>> log` still appends.
_OPEN_FD = re.compile(r"/dev/(?:(stdout)|(stderr)|fd/(\d+))|/proc/self/fd/(\d+)")


# The temporary file beside the output is ".<name>.<8 random characters>.partial": its name must fit too
TEMPORARY_NAME_EXTRA = len("..12345678.partial")


def check_paths(input_path: str, output_path: str, overwrite: bool = False) -> None:
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
    longest, length = name_max(target.parent) - TEMPORARY_NAME_EXTRA, len(os.fsencode(target.name))
    if length > longest:
        raise UserError(f"{output_path}: the file name is {length} bytes long; the file written "
                        f"beside it until the run completes needs a name of at most {longest} (fix: a shorter name)")
    if source.resolve() == target.resolve() or (target.exists() and source.exists() and os.path.samefile(source, target)):
        raise UserError(f"{output_path}: the output is the input file; write the tags to another file")
    if target.is_dir():
        raise UserError(f"{output_path}: is a directory; name an output file, e.g. {target / 'tags.jsonl'}")
    if target.exists() and not target.is_file():
        raise UserError(f"{output_path}: is not a regular file, a pipe or a terminal; name an output file")
    if target.exists() and not overwrite:  # as `train` and `serve spark`: nothing is replaced unasked
        raise UserError(f"{output_path}: exists (fix: pass --overwrite to replace it once the new tags are complete, "
                        "or name another output)")
    inside = enclosing_model_dir(target)
    if inside is not None:
        raise UserError(f"{output_path}: lies inside the model directory {inside}, which would then refuse to load "
                        "(fix: write the tags outside it)")
    parent = target.resolve().parent
    if parent.exists() and not parent.is_dir():
        raise UserError(f"{output_path}: {parent} is a file, not a directory; name an output in a directory")
    if not parent.is_dir():
        raise UserError(f"{output_path}: the directory {parent} does not exist; create it first")


def name_max(directory: Path) -> int:
    """The longest file name, in bytes, the directory's file system takes (255 where it cannot say)."""
    try:
        return os.pathconf(directory, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def check_stream(input_path: str, output_path: str) -> None:
    """A descriptor that is the input file (`--output - >> in.jsonl`) would be read back as it is
    written, growing the file until the disk is full."""
    fd = open_descriptor(output_path)
    try:
        written = os.fstat(fd) if fd is not None else os.stat(output_path)
        read = os.stat(input_path)
    except OSError:
        return
    if stat.S_ISREG(written.st_mode) and (written.st_dev, written.st_ino) == (read.st_dev, read.st_ino):
        raise UserError(f"{output_path}: standard output is the input file {input_path} (a `>> {input_path}`?), "
                        "which would be read back as it is written; write the tags to another file")


def open_descriptor(output_path: str) -> int | None:
    """The descriptor `output_path` names ("-", /dev/stdout, /dev/fd/3, ...), or None."""
    if output_path == STDOUT:
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
        if kind is not None and issubclass(kind, BrokenPipeError):
            if self.fd is not None:  # later flushes of this descriptor go nowhere instead of failing again
                discard_writes(self.fd)
            raise UserError(f"{self.output_path}: the reader closed it after {self.stats.records} records were tagged") from None


def new_file_mode(target: Path) -> int:
    """The mode of the file being replaced, else what the umask gives a new file (mkstemp's is 0600)."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        return umask_mode(0o666)


def open_partial(target: Path) -> tuple[int, str]:
    try:
        fd, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    except OSError as err:
        raise UserError(f"{target}: cannot write in {target.parent} ({err.strerror}); choose another output") from None
    os.chmod(partial, new_file_mode(target))
    try:  # the replaced file's group too, where this user may set it
        os.chown(partial, -1, os.stat(target).st_gid)
    except OSError:
        pass
    return fd, partial


def move_into_place(partial: str, target: Path, output_path: str, overwrite: bool) -> None:
    """The finished file renamed to its target; without `overwrite` never over a file that appeared
    at the target during the run (another program's, or a second run's): then the tags are set
    aside as `<output>.partial` and one error says where."""
    try:
        if overwrite:
            os.replace(partial, target)
            return
        if rename_no_clobber(partial, str(target)):
            return
        why = "a file appeared there while tagging; it is left as it is"
        fix = "pass --overwrite to replace it, or name another output"
    except OSError as err:
        why, fix = f"cannot put the tags there ({err.strerror})", "name another output"
    kept, records = set_aside(partial, output_path)
    where = f"the {records} tagged records are in {kept}" if kept else "no record was tagged"
    raise UserError(f"{target}: {why}; {where} (fix: {fix})")


def rename_no_clobber(source: str, target: str) -> bool:
    """Rename `source` to `target` unless `target` exists, in one step (a hard link, which fails on an
    existing name, then the old name's removal); False where `target` exists."""
    try:
        os.link(source, target)
    except FileExistsError:
        return False
    except OSError:  # no hard links on this file system: check, then rename
        if os.path.lexists(target):
            return False
        os.rename(source, target)
        return True
    os.unlink(source)
    return True


def keep_partial(partial: str, output_path: str, err: BaseException) -> None:
    """What a stopped run wrote, kept as `<output>.partial` (`set_aside`), and one line that says so."""
    kept, records = set_aside(partial, output_path)
    if kept:
        why = "interrupted" if isinstance(err, KeyboardInterrupt) else "stopped"
        state = "is untouched" if os.path.lexists(output_path) else "was not written"
        print(f"{why}: {records} records written to {kept}; {output_path} {state}", file=sys.stderr)


def set_aside(partial: str, output_path: str) -> tuple[str | None, int]:
    """(where the records went, how many): `<output>.partial`, or `.partial-2`, ...: never over a
    file; None where there are none (e.g. a CSV with no 'text' column: the error says why).

    The records are counted in the file: a signal between writing a batch and counting it would
    otherwise report one batch fewer than the file holds."""
    is_csv = output_path.lower().endswith(".csv")
    if not is_csv:
        drop_cut_line(partial)
    records = written_records(partial, is_csv)
    if records == 0:
        os.unlink(partial)
        return None, 0
    kept, number = f"{output_path}.partial", 1
    while not rename_no_clobber(partial, kept):
        number += 1
        kept = f"{output_path}.partial-{number}"
    return kept, records


def drop_cut_line(path: str) -> None:
    """A JSONL file cut off mid-record (the disk filled up) ends at its last whole line."""
    with open(path, "rb+") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return
        handle.seek(max(size - (1 << 20), 0))  # a record is far shorter than the 1 MiB looked at
        tail = handle.read()
        if not tail.endswith(b"\n"):
            handle.truncate(size - len(tail) + tail.rfind(b"\n") + 1)


def written_records(path: str, is_csv: bool) -> int:
    """Records in a (closed) output file: JSONL lines, or CSV rows after the header."""
    if is_csv:
        with open(path, encoding="utf-8", errors="replace", newline="") as handle:
            return max(sum(1 for _ in csv.reader(handle)) - 1, 0)
    with open(path, "rb") as handle:
        return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
