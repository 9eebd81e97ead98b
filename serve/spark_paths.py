"""`serve spark`'s checks of its input and output paths, on the file system Spark reads
(local, `file://`, `hdfs://`, ...), before any work:

- the input names files or folders that exist (a glob and a comma-separated list as Spark reads
  them); a folder holds files, not folders (`feed/day=1/`: name them, `feed/*/*.jsonl`);
- the output is none of the input files, holds none of them and lies in no input folder: with
  `--overwrite` it would otherwise replace the very files being read (a glob or a `file://`
  address names the input differently from the output);
- each file's first line reads as text of its format, as `serve tag` checks it
  (`vnzh_runtime.filekind`: UTF-16, a zip or zstd archive, a JSON array; a CSV header with a
  `text` column), except `.gz` and `.bz2`, which Spark decompresses;
- files Spark skips in a folder (names starting with `_` or `.`) are named in one warning.

    >>> files, folders = input_files(spark, "feed/*.jsonl")    # qualified: file:/.../feed/a.jsonl
    >>> check_output(spark, "feed/a.jsonl", files, folders)   # UserError: ... would replace the input file
"""

from __future__ import annotations

import csv
import io
from pathlib import PurePosixPath

from serve.readers import csv_header

from vnzh_runtime.errors import UserError
from vnzh_runtime.filekind import whole_file_problem

DECOMPRESSED = (".gz", ".bz2")  # Hadoop's codecs that need no native library
HEAD_BYTES = 4096  # a BOM, an archive's magic bytes, the opening of a JSON array


def _fs(spark, path: str):
    jvm = spark.sparkContext._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    fs = hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    return fs, fs.makeQualified(hadoop_path)


def input_files(spark, input_path: str, log=print) -> tuple[list[str], list[str]]:
    """(the qualified paths of every file Spark will read for `input_path`, the folders it names)."""
    files, folders, skipped = [], [], []
    for part in input_path.split(","):
        fs, pattern = _fs(spark, part)
        matches = fs.globStatus(pattern)
        if not matches:
            raise UserError(f"{part}: no such file or folder; check the path")
        for status in matches:
            if not status.isDirectory():
                files.append(status.getPath().toString())
                continue
            folders.append(status.getPath().toString())
            for child in fs.listStatus(status.getPath()):
                name = child.getPath().getName()
                if name.startswith(("_", ".")):
                    skipped.append(child.getPath().toString())
                elif child.isDirectory():
                    raise UserError(f"{part}: holds the folder {name}; name the files inside, e.g. {part.rstrip('/')}/*/*")
                else:
                    files.append(child.getPath().toString())
    if skipped:
        log(f"warning: Spark skips files whose names start with '_' or '.': {', '.join(skipped[:3])}"
            f"{' ...' if len(skipped) > 3 else ''} not read")
    return files, folders


def _local(spark, path: str) -> PurePosixPath:
    return PurePosixPath(_fs(spark, path)[1].toUri().getPath())


def check_output(spark, output_path: str, files: list[str], folders: list[str]) -> None:
    """Refuse an output that is or holds an input file (`--overwrite` would replace what is read),
    or lies in an input folder (the next read of that folder would take it as input)."""
    out = _local(spark, output_path.rstrip("/"))
    for file in files:
        source = _local(spark, file)
        if source == out or out in source.parents:
            raise UserError(f"{output_path}: the output would replace the input file {file}; write the tags elsewhere")
    for folder in folders:
        if _local(spark, folder) in out.parents:
            raise UserError(f"{output_path}: lies in the input folder {folder}, whose next read would take it as input; "
                            "write the tags elsewhere")


def check_heads(spark, files: list[str], kind: str, names: dict[str, str]) -> None:
    """Each file's first line, as `serve tag` checks a file before reading it (a CSV's header too)."""
    for file in files:
        if file.lower().endswith(DECOMPRESSED):
            continue
        fs, path = _fs(spark, file)
        stream = fs.open(path)
        try:
            head = bytes(stream.readNBytes(HEAD_BYTES))  # py4j hands a byte[] back as bytes
        finally:
            stream.close()
        first, name = head.split(b"\n", 1)[0], names.get(file, file)
        problem = whole_file_problem(first, name, jsonl=kind == "jsonl")
        if problem:
            raise UserError(problem)
        if kind == "csv":  # one line here, not a failed task on an executor
            csv_header(csv.reader(io.StringIO(first.decode("utf-8-sig", "replace"))), name)


def shown_names(input_path: str, files: list[str]) -> dict[str, str]:
    """Each file's name in errors: the input as the user wrote it when it names one file, else its path."""
    if len(files) == 1 and "," not in input_path and not any(c in input_path for c in "*?[{"):
        return {files[0]: input_path}
    return {file: file.removeprefix("file:") for file in files}
