"""The file `serve tag` writes beside its target until the run completes: nothing the user has
is written over.

    >>> fd, partial = open_partial(Path("tags.jsonl"))     # .tags.jsonl.<8 characters>.partial
    >>> move_into_place(partial, Path("tags.jsonl"), "tags.jsonl", replaces=None)

It takes the mode of the file it replaces, or the umask's, and is renamed into place; a run
stopped midway keeps what it wrote as `<output>.partial`, or `.partial-2`, ... beside a file of
that name (`set_aside`), cut back to its last whole line.
"""

from __future__ import annotations

import csv
import os
import stat
import sys
import tempfile
from pathlib import Path

from vnzh_runtime.errors import UserError
from vnzh_runtime.folders import rename_no_clobber
from vnzh_runtime.permissions import umask_mode


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


def file_identity(path) -> tuple | None:
    """What tells a file from one put in its place or written since (None: no file there)."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns


def move_into_place(partial: str, target: Path, output_path: str, replaces: tuple | None) -> None:
    """The finished file renamed to its target. `replaces`: the identity (`file_identity`) of the file
    that --overwrite allowed to replace, as it was when the run began; never over a file that appeared
    at the target during the run, or changed since (another program's, or a second run's): then the
    tags are set aside as `<output>.partial` and one error says where."""
    try:
        if replaces is not None and file_identity(target) == replaces:
            os.replace(partial, target)
            return
        if rename_no_clobber(partial, str(target)):
            return
        changed = replaces is not None and file_identity(target) is not None
        why = f"a file {'was written there' if changed else 'appeared there'} while tagging; it is left as it is"
        fix = None  # named once the tags' place is known
    except OSError as err:
        why, fix = f"cannot put the tags there ({err.strerror})", "name another output"
    kept, records = set_aside(partial, output_path)
    fix = fix or (f"mv {kept} {output_path} to replace it with the tags, or leave both" if kept else "run again")
    where = f"the {records} tagged records are in {kept}" if kept else "no record was tagged"
    raise UserError(f"{target}: {why}; {where} (fix: {fix})")


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
    drop_cut_line(partial)
    delimiter = csv_delimiter(output_path)
    records = written_records(partial) if delimiter is None else drop_cut_row(partial, delimiter)
    if records == 0:
        os.unlink(partial)
        return None, 0
    kept, number = f"{output_path}.partial", 1
    while not rename_no_clobber(partial, kept):
        number += 1
        kept = f"{output_path}.partial-{number}"
    return kept, records


def drop_cut_line(path: str) -> None:
    """A file cut off mid-record (the disk filled up) ends at its last whole line. A partial that took a
    read-only file's mode keeps its cut line (counted out: only whole lines count), as the cause matters more."""
    try:
        _truncate_after_last_line(path)
    except OSError:
        pass


def _truncate_after_last_line(path: str) -> None:
    with open(path, "rb+") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return
        handle.seek(max(size - (1 << 20), 0))  # a record is far shorter than the 1 MiB looked at
        tail = handle.read()
        if not tail.endswith(b"\n"):
            handle.truncate(size - len(tail) + tail.rfind(b"\n") + 1)


def csv_delimiter(output_path: str) -> str | None:
    """The field delimiter of a `.csv` (comma) or `.tsv` (tab) output; None: the output is JSON Lines."""
    return {".csv": ",", ".tsv": "\t"}.get(Path(output_path).suffix.lower())


def drop_cut_row(path: str, delimiter: str = ",") -> int:
    """A CSV partial cut at its last whole row, and its rows after the header: its last line end may fall
    inside a quoted cell (an id with a line break), which the last-line cut keeps as a row of one field."""
    end = 0

    def lines():
        nonlocal end
        with open(path, "rb") as handle:
            for raw in handle:  # a UTF-8 character never holds a line end byte: each line decodes alone
                end += len(raw)  # counted before the reader gets it: a row it returns ends here
                yield raw.decode("utf-8", "replace")

    position = rows = 0
    try:
        for _ in csv.reader(lines(), delimiter=delimiter, strict=True):
            position, rows = end, rows + 1
    except (csv.Error, OSError):  # strict: a quote left open at the end of the file
        pass
    try:
        if position < os.path.getsize(path):
            os.truncate(path, position)
    except OSError:
        pass
    return max(rows - 1, 0)


def written_records(path: str) -> int:
    """Records in a (closed) JSON Lines output file: its lines."""
    with open(path, "rb") as handle:
        return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
