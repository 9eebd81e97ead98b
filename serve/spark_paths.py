"""`serve spark`'s checks of its input and output paths, on the file system Spark reads
(local, `file://`, `hdfs://`, ...), before any work:

- the input names files or folders that exist (a glob and a comma-separated list as Spark reads
  them); a folder holds files, not folders (`feed/day=1/`: name them, `feed/*/*.jsonl`);
- the output is none of the input files, holds none of them and lies in no input folder: with
  `--overwrite` it would otherwise replace the very files being read (a glob or a `file://`
  address names the input differently from the output);
- each file's first line reads as text of its format, as `serve tag` checks it
  (`vnzh_runtime.filekind`: UTF-16, a zip or zstd archive, a JSON array; a CSV header with a
  `text` column), except JSONL's `.gz` and `.bz2`, which Spark decompresses;
- data files Spark skips in a folder (names starting with `_` or `.`) are named in one warning;
  a parquet folder may hold partition folders (`year=2024/`).

    >>> files, folders = input_files(spark, "feed/*.jsonl", "jsonl")  # qualified: file:/.../feed/a.jsonl
    >>> check_output(spark, "feed/a.jsonl", files, folders)   # UserError: ... would replace the input file
"""

from __future__ import annotations

import fnmatch
import io
import os
import re
from pathlib import PurePosixPath

from serve.csv_records import check_csv_head
from serve.readers import misnamed
from serve.spark_input import FORMATS, input_parts
from vnzh_runtime.errors import UserError
from vnzh_runtime.filekind import head_lines, is_blank_line, whole_file_problem
from vnzh_runtime.folders import few, foreign

DECOMPRESSED = (".gz", ".bz2")  # Hadoop's codecs that need no native library (JSONL lines; CSV files are read whole)
HEAD_BYTES, HEAD_LIMIT = 4096, 1 << 20  # a BOM, an archive's magic bytes, a JSON array's opening, a CSV header


def is_glob(path: str) -> bool:
    return any(c in path for c in "*?[{")


def _fs(spark, path: str):
    jvm = spark.sparkContext._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    fs = hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    return fs, fs.makeQualified(hadoop_path)


def input_files(spark, input_path: str, kind: str, log=print) -> tuple[list[str], list[str]]:
    """(the qualified paths of every file Spark will read for `input_path`, the folders it names
    and its globs: an output inside one would be read as input the next time)."""
    files, folders, skipped = [], [], []
    for part in input_parts(input_path):
        check_readable_name(part, PurePosixPath(part.rstrip("/")).name)
        if is_glob(part) and os.path.lexists(part):  # Spark would glob the name again when it reads it
            raise UserError(f"{part}: Spark reads [ ] {{ }} * ? in a name as a glob; rename the file, "
                            "or name the folder that holds it")
        fs, pattern = _fs(spark, part)
        matches = fs.globStatus(pattern)
        if not matches:
            raise UserError(f"{part}: no such file or folder; check the path")
        if is_glob(part):  # the next run's glob could match an output written beside its files
            folders.append(pattern.toString())
        for status in matches:
            if status.isDirectory():
                folders.append(status.getPath().toString())
                files.extend(_folder_files(fs, status, part, kind, skipped))
            else:
                files.append(status.getPath().toString())
    if skipped:
        log(f"warning: Spark skips files whose names start with '_' or '.': {', '.join(skipped[:3])}"
            f"{' ...' if len(skipped) > 3 else ''} not read")
    return files, folders


def _folder_files(fs, status, part: str, kind: str, skipped: list[str]) -> list[str]:
    files = []
    for child in fs.listStatus(status.getPath()):
        name = child.getPath().getName()
        if name.startswith(("_", ".")):
            if name.lower().endswith((".jsonl", ".json", ".ndjson", ".csv", ".parquet")):  # not _SUCCESS, .crc
                skipped.append(child.getPath().toString())
        elif child.isDirectory() and kind != "parquet":  # parquet reads partition folders (year=2024/)
            raise UserError(f"{part}: holds the folder {name}; name the files inside, e.g. {part.rstrip('/')}/*/*")
        elif not child.isDirectory():
            check_readable_name(child.getPath().toString(), name)
            other = FORMATS.get(PurePosixPath(name.lower()).suffix)
            if other and other != kind:  # a folder is read in the format its own name says (JSONL without one)
                raise UserError(f"{part}: holds {name}, a {other} file, but a folder named so is read as {kind}; "
                                f"name its files, e.g. '{part.rstrip('/')}/*{PurePosixPath(name).suffix}'")
            files.append(child.getPath().toString())
    return files


def check_readable_name(path: str, name: str) -> None:
    """Hadoop's paths are URIs: a ':' in a file's name ("feed 2026-01-05T10:30.jsonl") fails inside Spark."""
    if ":" in name:
        raise UserError(f"{path}: Spark (Hadoop) cannot read a file whose name holds ':'; rename it "
                        "(e.g. ':' to '-'), or tag it with python -m serve tag")


def _where(qualified: str) -> tuple[str, str, PurePosixPath]:
    """(scheme, bucket or host, path) of a qualified path: s3a://raw/x and s3a://tags/x are two places.
    Parsed here, not asked of the file system: the input's paths come qualified, thousands of them."""
    scheme, _, rest = qualified.partition(":")  # not urlparse: '#' and '?' are a file name's own characters here
    authority, path = "", rest
    if rest.startswith("//"):  # hdfs://namenode/..., s3a://bucket/...
        authority, _, path = rest[2:].partition("/")
    path = "/" + path.lstrip("/")
    if scheme == "file":  # through a symlinked folder, the input and the output may be one file by two names
        path = os.path.realpath(path)
    return scheme, authority, PurePosixPath(path)


def check_output(spark, output_path: str, files: list[str], folders: list[str]) -> None:
    """Refuse an output that is or holds an input file (`--overwrite` would replace what is read),
    or lies in an input folder (the next read of that folder would take it as input)."""
    if is_glob(output_path) or "]" in output_path or "}" in output_path:  # written, then not found to count
        raise UserError(f"{output_path}: Spark reads [ ] {{ }} * ? in a name as a glob, so the output could not be "
                        "read back; name it without them")
    *out_place, out = _where(_fs(spark, output_path.rstrip("/"))[1].toString())
    for file in files:
        *place, source = _where(file)
        if place == out_place and (source == out or out in source.parents):
            raise UserError(f"{output_path}: the output would replace the input file {file}; write the tags elsewhere")
    for folder in folders:
        *place, path = _where(folder)
        inside = fnmatch.fnmatchcase(str(out), str(path)) if is_glob(folder) else path in out.parents
        if place == out_place and inside:
            raise UserError(f"{output_path}: lies in the input folder or glob {folder}, whose next read would take it "
                            "as input; write the tags elsewhere")


def followed_link(output_path: str) -> str:
    """A local output that is a symlink names the folder it points to, as `serve tag` and `train`
    follow one: that folder is replaced and the link kept (else the link itself would be)."""
    local = output_path.removeprefix("file://")
    if "://" in local:  # hdfs://, s3a://: no local links
        return output_path
    path = local.rstrip("/")
    return os.path.realpath(path) if os.path.islink(path) else output_path


# What Spark writes in an output folder, by its name shapes (a user's "part-1-notes.jsonl" is not):
# part-00000-<uuid>-c000.snappy.parquet (five digits or more; Databricks' part-00000-tid-<n>-<uuid>-93-1-c000...),
# its .crc (".part-....crc"), _SUCCESS (and its .crc), and the _committed_/_started_ markers of some committers.
# The uuid is what tells Spark's part files from a user's: "part-20240501.jsonl", "part-00000.jsonl" are theirs
SPARK_WRITES = re.compile(r"\.?part-\d{5,}(?:-tid-\d+)?-[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}(?:-\d+)*"
                          r"(?:-c\d{3})?(?:\.\w+)*|\.?_SUCCESS(?:\.crc)?|_(?:committed|started)_\d+")


def check_replaceable(fs, target, output_path: str) -> None:
    """An existing output that `--overwrite` may replace: a folder of what Spark writes, never a
    user's file, or a folder that also holds files of theirs (replacing it would delete them)."""
    if not fs.getFileStatus(target).isDirectory():
        raise UserError(f"{output_path}: is a file, not an output folder of serve spark, and --overwrite would delete "
                        "it (fix: name another output)")
    names = (child.getPath().getName() for child in fs.listStatus(target))
    others = foreign(names, lambda name: SPARK_WRITES.fullmatch(name) is not None)
    if others:
        raise UserError(f"{output_path}: holds {few(others)}, which serve spark did not write and replacing the output "
                        "would delete (fix: move them out, or name another output)")


def check_heads(spark, files: list[str], kind: str, names: dict[str, str]) -> None:
    """Each file's first line, as `serve tag` checks a file before reading it (a CSV's header too); a parquet
    file (PAR1) is binary by design."""
    for file in files:
        if kind != "csv" and file.lower().endswith(DECOMPRESSED):  # CSV files are read whole, not decompressed
            continue
        head, name = _head(spark, file), names.get(file, file)
        if kind == "parquet" and head[:1] and head[0].startswith(b"PAR1"):
            continue
        problem = whole_file_problem(head, name, jsonl=kind == "jsonl") or \
            (misnamed(f".{kind}", head, name) if kind in ("jsonl", "csv") else None)  # a feed saved as .jsonl ...
        if problem:
            raise UserError(problem)
        if kind == "csv":  # one line here, not a failed task on an executor
            check_csv_head(head, name)


def _head(spark, file: str) -> list[bytes]:
    """The file's first lines as `serve tag` checks them (`head_lines`), read through Hadoop."""
    fs, path = _fs(spark, file)
    stream = fs.open(path)
    try:
        return read_head(lambda: bytes(stream.readNBytes(HEAD_BYTES)))  # py4j hands a byte[] back as bytes
    finally:
        stream.close()


def read_head(read_piece) -> list[bytes]:
    """`head_lines` of a stream read `HEAD_BYTES` at a time (`read_piece`), up to `HEAD_LIMIT` (a CSV
    header of many columns): to the first non-blank line and the one after it. Whole blank lines are
    passed once, so a file that opens with a megabyte of them costs one pass, not one per piece.

    >>> pieces = iter([b"\\n" * 4096, b"[\\n  {}\\n]\\n"])
    >>> read_head(lambda: next(pieces, b""))[-2:]
    [b'[\\n', b'  {}\\n']
    """
    data, blank_end = b"", 0  # blank_end: where the whole blank lines at the start end
    while len(data) < HEAD_LIMIT:
        piece = read_piece()
        data += piece
        if len(piece) < HEAD_BYTES:  # the whole file is read
            break
        while (end := data.find(b"\n", blank_end) + 1) and is_blank_line(data[blank_end:end]):
            blank_end = end
        if data.count(b"\n", blank_end) >= 2:  # the first non-blank line and the next are whole
            break
    return head_lines(iter(io.BytesIO(data)))  # lines end at \n only, as a file's (bytes.splitlines ends them at \r too)


def shown_names(input_path: str, files: list[str]) -> dict[str, str]:
    """Each file's name in errors: the input as the user wrote it when it names one file, else its path."""
    if len(files) == 1 and "," not in input_path and not is_glob(input_path):
        return {files[0]: input_path}
    return {file: file.removeprefix("file:") for file in files}
