"""`python -m serve spark`: tag a file, or a folder of files, on Spark with the logged MLflow model.

    python -m serve spark --model models:/vn-china-topics-tfidf@champion --input paragraphs.jsonl --output tags.parquet
    spark-submit --master yarn serve/spark.py --model runs:/<id>/model --input hdfs:///feed/day/ --output hdfs:///tags/day.jsonl

Local mode (`local[*]`, no cluster) is the default when the command is not run by
`spark-submit`. The model is applied through `mlflow.pyfunc.spark_udf(env_manager="local")`:
the executors' Python must have the model's requirements (its requirements.txt) and
pyspark; this code (`serve`, `vnzh_runtime`) is shipped to them as a zip, so they need no
checkout of the project.

Input, by name: `.parquet` (or a folder of parquet files), `.csv` (header with a `text`
column), otherwise JSONL (`text`, optional `id` and `doc_id`); JSONL and CSV are read with
the same rules as `serve tag` (serve/readers.py, serve/tagging.py), so the same record gets
the same `error` (one difference: Hadoop's line reader decodes bad bytes as U+FFFD, so a JSONL
line holding a real U+FFFD is refused as not UTF-8 here and tagged by `serve tag`). Output, by name: `.parquet`, or `.jsonl` (one `serve tag` record per
line). Spark writes a folder of part files, in input order; it replaces the target only
when complete (`--overwrite`), and an existing output is otherwise refused.

One output row per input row (JSONL blank lines are not rows, as in `serve tag`). Each
keeps `id` and `doc_id`; an untaggable row gets `error` (`<input>:<line>: why`, `:row N`
for parquet) instead of the model's columns. Article context is exact: all paragraphs of
one `doc_id` are tagged in one batch (rows are range-partitioned by the first row of
their article and each partition is one Arrow batch), so labels and scores equal
`serve tag`'s.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import uuid
from pathlib import Path

if __package__ in (None, ""):  # run as a script (spark-submit serve/spark.py): make `serve` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from serve.spark_input import first_line, input_format, read_input  # noqa: E402
from serve.spark_model import accepts_doc_id, download_model, model_labels, ship_code  # noqa: E402
from serve.spark_output import (UDF_COLUMN, KeptAside, filesystem, jsonl_line_of, label_ordered, plain_id,  # noqa: E402
                                replace_output, typed)
from serve.spark_paths import (check_heads, check_output, check_replaceable, followed_link, input_files,  # noqa: E402
                               shown_names)
from serve.spark_quiet import interrupt_quietly, quiet_jvm, quiet_log4j, quiet_warnings, stop_quietly  # noqa: E402
from vnzh_runtime.errors import GivenOnce, UserError  # noqa: E402


def tag(spark, model: str, input_path: str, output_path: str, partitions: int | None = None,
        overwrite: bool = False, log=print) -> dict:
    """Tag `input_path` into `output_path` with the MLflow model `model`; returns counts and timings."""
    import mlflow.pyfunc
    from pyspark.sql import functions as F
    from pyspark.sql import types as T
    from pyspark.sql.window import Window

    started = time.perf_counter()
    out_kind = Path(output_path.rstrip("/")).suffix.lower()
    if out_kind not in (".parquet", ".jsonl"):
        raise UserError(f"{output_path}: name the output .parquet or .jsonl (Spark writes a folder of part files)")
    output_path = followed_link(output_path)
    kind = input_format(input_path)
    files, folders = input_files(spark, input_path, kind, log)  # a missing input stops here, before the model is fetched
    check_output(spark, output_path, files, folders)
    fs, jvm = filesystem(spark, output_path)
    target = jvm.org.apache.hadoop.fs.Path(output_path)
    if fs.exists(target) and not overwrite:
        raise UserError(f"{output_path}: exists; pass --overwrite to replace it (replaced only once the new output is complete)")
    if fs.exists(target):
        check_replaceable(fs, target, output_path)
    parent = target.getParent()
    if parent is not None and not fs.exists(parent):
        raise UserError(f"{output_path}: the folder {parent} does not exist; create it first")
    if parent is not None and not fs.getFileStatus(parent).isDirectory():
        raise UserError(f"{output_path}: {parent} is a file, not a folder; name an output in a folder")

    names = shown_names(input_path, files)
    check_heads(spark, files, kind, names)
    ship_code(spark)
    rows, id_types = read_input(spark, input_path, names)
    root = download_model(model)
    labels = model_labels(root)
    tagger = mlflow.pyfunc.spark_udf(spark, str(root), env_manager="local")
    with_docs = accepts_doc_id(root)
    if not with_docs:
        log(f"warning: {model} was logged without doc_id in its signature (MLflow drops it), so paragraphs that "
            "share a doc_id are tagged without article context; retrain to log a model that takes doc_id")
    # Each article, whole, in one partition, and partitions in input order: rows go by the first row of
    # their article (their own row when they have none), range-partitioned, then sorted by row.
    key = F.coalesce(F.col("_key"), F.concat(F.lit("#"), F.col("_row").cast("string")))
    cores = spark.sparkContext.defaultParallelism  # a whole number of rounds: 3 tasks on 2 cores cost 2 rounds
    count = partitions or cores * max(math.ceil(rows.rdd.getNumPartitions() / cores), 1)  # an empty input: 0
    rows = rows.withColumn("_first", F.min("_row").over(Window.partitionBy(key)))
    rows = rows.repartitionByRange(count, "_first").sortWithinPartitions("_row")
    # Spark runs a Python UDF on every row, even under a condition: error rows go in as "" with no
    # article (so they touch no article's head) and their result is dropped.
    good = F.col("error").isNull()
    inputs = F.struct(F.coalesce(F.col("text"), F.lit("")).alias("text"),
                      *([F.when(good, F.col("_key")).alias("doc_id")] if with_docs else []))
    tagged = rows.withColumn(UDF_COLUMN, tagger(inputs)).withColumn(UDF_COLUMN, F.when(good, F.col(UDF_COLUMN)))

    previous = spark.conf.get("spark.sql.execution.arrow.maxRecordsPerBatch")
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "0")  # one batch per partition: whole articles
    staging = f"{output_path.rstrip('/')}.partial-{uuid.uuid4().hex[:8]}"
    cached = None
    try:
        # Tagged once, whole articles per batch, then back to input order across partitions: an article
        # interleaved with other rows sits in the partition of its first row, so ranges of `_first` need
        # not be ranges of rows. (Sorted uncached, Spark would tag after the sort's shuffle.)
        cached = tagged.persist()
        cached.count()
        tagged = cached.orderBy("_row")
        if out_kind == ".jsonl":
            to_line = F.udf(jsonl_line_of(labels), T.StringType())
            tagged.select(to_line(F.struct("_id", "_doc", "error", UDF_COLUMN)).alias("value")).write.text(staging)
        else:
            tagged_type = tagged.schema[UDF_COLUMN].dataType
            model_columns = [label_ordered(F.col(f"{UDF_COLUMN}.{field.name}"), field, labels).alias(field.name)
                             for field in tagged_type.fields if field.name != "error"]  # the row's own is kept
            plain = F.udf(plain_id, T.StringType())
            ids = [typed(plain(F.col(column)), (id_types or {}).get(name), name)
                   for column, name in (("_id", "id"), ("_doc", "doc_id"))]
            tagged.select(*ids, *model_columns, "error").write.parquet(staging)
        replace_output(fs, jvm, staging, output_path, overwrite)
    except BaseException as err:
        if not isinstance(err, KeptAside):  # else the new output is all the user has of this run
            fs.delete(jvm.org.apache.hadoop.fs.Path(staging), True)
        raise
    finally:
        spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", previous)
        if cached is not None:
            cached.unpersist()
    written = spark.read.parquet(output_path) if out_kind == ".parquet" else spark.read.text(output_path)
    error = F.col("error") if out_kind == ".parquet" else F.get_json_object("value", "$.error")
    counts = written.agg(F.count(F.lit(1)).alias("records"), F.count(error).alias("errors")).first()
    return {"records": counts["records"], "errors": counts["errors"], "seconds": time.perf_counter() - started}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m serve spark",
                                     description="Tag a file or folder on Spark with a logged MLflow model.")
    parser.add_argument("--model", action=GivenOnce, required=True, help="MLflow model: models:/NAME@ALIAS, runs:/RUN_ID/model or an MLflow model folder")
    parser.add_argument("--input", action=GivenOnce, required=True, help=".jsonl (text, id, doc_id), .csv (text column) or .parquet; a file or folder")
    parser.add_argument("--output", action=GivenOnce, required=True, help="output folder named .parquet or .jsonl")
    parser.add_argument("--master", action=GivenOnce, default=None,
                        help="Spark master (default: spark-submit's, else local[*])")
    parser.add_argument("--partitions", action=GivenOnce, type=int, default=None,
                        help="partitions to tag in (default: the input's, rounded up to a multiple of the cores); "
                             "each is one model call, held in memory")
    parser.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE", help="a Spark setting (repeatable)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output once the new one is complete")
    parser.add_argument("--quiet", action="store_true", help="no Spark progress bar")
    return parser


def session(master: str | None, conf: list[str], quiet: bool):
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("vnzh-serve-spark")
    under_submit = "PYSPARK_GATEWAY_PORT" in os.environ  # spark-submit already started the JVM with its master
    if master or not under_submit:
        master = master or "local[*]"
        builder = builder.master(master)
    if master and master.startswith("local"):
        # Executors are this machine's Python workers: the same interpreter as this one, unless told otherwise;
        # they inherit this environment, so pandas-3 and type-hint warnings stay out of the output too.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYTHONWARNINGS", "ignore::FutureWarning,ignore::UserWarning")
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # one machine: loopback only
        builder = builder.config("spark.ui.enabled", "false").config(
            "spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={quiet_log4j().as_uri()}")
    for item in conf:
        key, sep, value = item.partition("=")
        if not sep:
            raise UserError(f"--conf {item}: expected KEY=VALUE, e.g. --conf spark.driver.memory=4g")
        builder = builder.config(key, value)
    if quiet:
        builder = builder.config("spark.ui.showConsoleProgress", "false")
    try:
        spark = builder.getOrCreate()
    except Exception as err:  # noqa: BLE001 - e.g. JAVA_GATEWAY_EXITED when there is no Java
        raise UserError(f"cannot start Spark ({first_line(err)}); check --master {master!r} and --conf, and that "
                        "Java 17+ is installed (apt-get install default-jre-headless, or set JAVA_HOME)") from None
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.partitions is not None and args.partitions < 1:
        print("error: --partitions must be at least 1", file=sys.stderr)
        return 2
    spark, owned = None, False
    try:
        from pyspark.sql import SparkSession

        quiet_warnings()
        interrupt_quietly()
        started = time.perf_counter()
        owned = SparkSession.getActiveSession() is None
        spark = session(args.master, args.conf, args.quiet)
        startup = time.perf_counter() - started
        stats = tag(spark, args.model, args.input, args.output, args.partitions, args.overwrite,
                    log=lambda line: print(line, file=sys.stderr))
        print(f"tagged {stats['records'] - stats['errors']} of {stats['records']} records ({stats['errors']} errors) "
              f"-> {args.output}  [{stats['seconds']:.1f} s tagging, {startup:.1f} s Spark start-up]", file=sys.stderr)
    except ImportError as err:
        print(f"error: serve spark needs pyspark ({err}); install it with pip install -e \".[spark]\" and a Java runtime",
              file=sys.stderr)
        return 2
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; the output is untouched", file=sys.stderr)
        if spark is not None:
            quiet_jvm(spark)
            stop_quietly(spark, owned)
            owned = False  # stopped: not again below
        return 130
    finally:
        if spark is not None and owned:
            spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
