"""Writing `serve spark`'s output as `serve tag` writes it: JSONL lines byte for byte, parquet
columns with the labels in label order and ids in their source types; the finished output
is moved into place only when complete (`replace_output`).
"""

from __future__ import annotations

import json
import uuid

from serve.spark_paths import check_replaceable
from vnzh_runtime.errors import UserError

UDF_COLUMN = "_tagged"


def in_label_order(value, labels: list[str]):
    """Row -> dict, with any struct keyed by the labels put back in label order (as serve tag writes it)."""
    if isinstance(value, dict):
        if set(value) == set(labels):
            return {label: in_label_order(value[label], labels) for label in labels}
        return {k: in_label_order(v, labels) for k, v in value.items()}
    if isinstance(value, list):
        return [in_label_order(v, labels) for v in value]
    return value


def jsonl_line_of(labels: list[str]):
    def line(row) -> str:
        record = {"id": json.loads(row["_id"])}
        if row["_doc"] is not None:
            record["doc_id"] = json.loads(row["_doc"])
        if row["error"] is not None:
            record["error"] = row["error"]
        else:
            tags = row[UDF_COLUMN].asDict(recursive=True)
            tags.pop("error", None)  # the model's own (null on a tagged row); this row's is above
            record.update(in_label_order(tags, labels))
        from vnzh_runtime.jsonl import jsonl_line

        return jsonl_line(record).decode("utf-8").rstrip("\n")  # byte for byte what serve tag writes
    return line


def plain_id(value: str | None) -> str | None:
    """A JSON-encoded id as parquet's string column: strings as they are, numbers and booleans as JSON text."""
    if value is None:
        return None
    decoded = json.loads(value)
    return decoded if isinstance(decoded, str) or decoded is None else value


def label_ordered(column, field, labels: list[str]):
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    if isinstance(field.dataType, T.StructType) and {f.name for f in field.dataType.fields} == set(labels):
        return F.struct(*[column.getField(label).alias(label) for label in labels])
    return column


def typed(column, source_type, name: str):
    """Parquet in, parquet out: ids keep their column type; from JSONL/CSV they are strings."""
    from pyspark.sql import types as T

    numeric = (T.IntegralType, T.FractionalType, T.BooleanType)
    if source_type is not None and isinstance(source_type, numeric):
        return column.cast(source_type).alias(name)
    return column.alias(name)


def filesystem(spark, path: str):
    jvm = spark.sparkContext._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    return hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), jvm


class KeptAside(UserError):
    """The finished output could not go into place and is kept where it was written: never delete it."""


def replace_output(fs, jvm, staging: str, output_path: str, overwrite: bool = False) -> None:
    """Move the finished output into place; an old one is moved aside first and deleted last. What is at
    the output now is checked again (the run's first check may be minutes old): something that appeared
    there meanwhile, without `overwrite`, or that holds files Spark did not write, is left alone and the
    new output kept beside it (`KeptAside`)."""
    Path_ = jvm.org.apache.hadoop.fs.Path
    target, old = Path_(output_path), None
    if fs.exists(target):
        if not overwrite:
            raise KeptAside(f"{output_path}: appeared while tagging and is left as it is; the new output is in "
                            f"{staging} (fix: move it into place yourself, or run again with --overwrite)")
        try:
            check_replaceable(fs, target, output_path)
        except UserError as err:
            raise KeptAside(f"{err}; nothing was replaced, and the new output is in {staging}") from None
        old = Path_(f"{output_path.rstrip('/')}.old-{uuid.uuid4().hex[:8]}")
        fs.rename(target, old)
    if not fs.rename(Path_(staging), target):
        raise UserError(f"{output_path}: could not move the finished output into place (it is in {staging})")
    if old is not None:
        fs.delete(old, True)
