"""The Spark engine: the same reductions as DataFrame operations, for tables in a lakehouse.

Install with ``pip install annotation-qa[spark]`` (pyspark; Spark needs Java 17+). The source is
a Spark DataFrame, a table name (``spark.table``) or a Parquet/CSV path; the active
``SparkSession`` is used, else a local one is started. Only the reduced tables are collected to
the driver (``toPandas`` of a few hundred rows per question); the coefficients are ``metrics``'
own (see :mod:`qa.engines._reduced`), so results equal the in-memory and DuckDB engines'.

Row order (the tie-break of duplicate annotations) is ``monotonically_increasing_id()`` of the
source, which follows file order for a single file read by Spark.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qa.engines._reduced import resolve_columns

LOCAL_MASTER = "local[2]"
"""The local session started when none is active (2 cores, as the benchmark machine)."""

LOCAL_CONFIG = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.memory": "2g",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}
TRUE_WORDS = ("true", "t", "yes", "y", "1", "1.0")


def spark_session(spark: Any = None) -> Any:
    """``spark``, else the active session, else a new local one (``LOCAL_MASTER``, UTC)."""
    from pyspark.sql import SparkSession

    if spark is not None:
        return spark
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = SparkSession.builder.master(LOCAL_MASTER).appName("annotation-qa")
    for key, value in LOCAL_CONFIG.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkBackend:
    """Group-by queries of :class:`qa.engines._reduced.Backend` on Spark.

    Parameters
    ----------
    source : a ``pyspark.sql.DataFrame``, a table name, or a Parquet / CSV path.
    column_map, question : as ``qa.load``.
    spark : the SparkSession (default: the active one, else a local one).
    """

    name = "spark"

    def __init__(
        self, source: Any, *, column_map: dict[str, str] | None = None, question: str | None = None,
        spark: Any = None,
    ) -> None:
        from pyspark.sql import DataFrame
        from pyspark.sql import functions as F

        self._F = F
        self.spark = spark_session(spark)
        self.spark.conf.set("spark.sql.session.timeZone", "UTC")
        if isinstance(source, DataFrame):
            frame, self.source, self.source_kind = source, "<Spark DataFrame>", "table"
        else:
            frame, self.source_kind = self._read(str(source))
            self.source = str(source)
        frame = frame.withColumn("__row", F.monotonically_increasing_id())
        self._src = self._define_source(frame, dict(column_map or {}), question)
        self._kept = None
        self._cached: list[Any] = []

    def _read(self, source: str) -> tuple[Any, str]:
        path = Path(source)
        if not path.exists():
            return self.spark.table(source), "table"
        with open(path, "rb") as handle:
            head = handle.read(4)
        if head == b"PAR1" or path.is_dir():
            return self.spark.read.parquet(source), "parquet"
        with open(path, encoding="utf-8", errors="replace") as handle:
            delimiter = "\t" if "\t" in handle.readline() else ","
        reader = self.spark.read.option("header", True).option("sep", delimiter).option("escape", '"')
        return reader.csv(source), "csv"

    def _define_source(self, frame: Any, column_map: dict[str, str], question: str | None) -> Any:
        F = self._F
        types = dict(frame.dtypes)
        columns = self._columns = resolve_columns(types, column_map, self.source, nested_label=_is_nested_spark_type)
        self.has_columns = frozenset(
            name for name, canonical in (("batch", "batch"), ("kind", "annotator_kind"), ("annotator", "annotator_id"))
            if canonical in columns
        )
        col = lambda name: F.col(f"`{columns[name]}`")  # noqa: E731
        gold = (
            F.coalesce(F.lower(F.trim(col("is_gold").cast("string"))).isin(*TRUE_WORDS), F.lit(False))
            if "is_gold" in columns else F.lit(False)
        )
        ts, bad = _timestamp_columns(F, col("created_at") if "created_at" in columns else None,
                                     types.get(columns.get("created_at", ""), ""))
        return frame.select(
            (col("question") if "question" in columns else F.lit(question or "label")).alias("question"),
            col("item_id").alias("item"),
            col("annotator_id").alias("annotator"),
            col("label").alias("label"),
            (col("annotator_kind").cast("string") if "annotator_kind" in columns else F.lit(None).cast("string")).alias("kind"),
            gold.alias("gold"),
            (col("batch") if "batch" in columns else F.lit(None).cast("string")).alias("batch"),
            ts.alias("ts"),
            bad.alias("bad_ts"),
            F.col("__row").alias("row"),
        )

    # -- Backend ----------------------------------------------------------------------------
    def inventory(self) -> pd.DataFrame:
        F = self._F
        grouped = self._src.groupBy("question", "label", "gold", "kind").agg(
            F.count(F.lit(1)).alias("n"),
            F.min("row").alias("first_row"),
            F.sum(F.when(F.col("item").isNull(), 1).otherwise(0)).alias("missing_item"),
            F.sum(F.when(F.col("annotator").isNull() & ~F.col("gold"), 1).otherwise(0)).alias("missing_annotator"),
            F.sum(F.when(F.col("bad_ts"), 1).otherwise(0)).alias("bad_timestamp"),
        )
        return _to_pandas(grouped)

    def build_kept(self, mapping: pd.DataFrame) -> tuple[int, int]:
        from pyspark import StorageLevel

        F = self._F
        types = dict(self._src.dtypes)
        # Raw values travel as text (repr round-trips floats) and are cast back to the source's
        # types, so the join compares like with like.
        rows = [
            (_text(question), _text(label), str(q), int(code))
            for question, label, q, code in mapping[["question", "label", "q", "code"]].itertuples(index=False)
        ]  # one row per distinct (question, label): a handful
        mapped = self.spark.createDataFrame(rows, "question string, label string, q string, code long")
        mapped = mapped.select(
            F.col("question").cast(types["question"]).alias("question"),
            F.col("label").cast(types["label"]).alias("label"),
            F.col("q").cast("string").alias("q"),
            F.col("code").cast("int").alias("code"),
        )
        labelled = (
            self._src.where(~F.col("gold"))
            .join(F.broadcast(mapped), ["question", "label"])
            .select("q", "item", "annotator", "code",
                    (F.coalesce(F.col("kind"), F.lit("human")) == "human").alias("human"), "batch", "ts", "row")
        )
        keys = ["q", "item", "annotator"]
        duplicated = labelled.groupBy(*keys).count().where(F.col("count") > 1).persist(StorageLevel.MEMORY_AND_DISK)
        self._cached.append(duplicated)
        order = F.struct(F.coalesce(F.unix_micros("ts"), F.lit(-(2**63))).alias("t"), F.col("row").alias("r"))
        latest = (
            labelled.join(duplicated.select(*keys), keys, "left_semi")
            .groupBy(*keys)
            .agg(F.max_by(F.struct("code", "human", "batch", "ts"), order).alias("latest"))
            .select(*keys, "latest.code", "latest.human", "latest.batch", "latest.ts")
        )
        single = labelled.join(duplicated.select(*keys), keys, "left_anti").select(*keys, "code", "human", "batch", "ts")
        self._kept = single.unionByName(latest).persist(StorageLevel.MEMORY_AND_DISK)
        self._cached.append(self._kept)
        kept = self._kept.count()
        duplicates = duplicated.agg(F.sum(F.col("count") - 1)).collect()[0][0] or 0
        return int(kept), int(duplicates)

    def value_counts(self) -> pd.DataFrame:
        frame = _to_pandas(self._kept.groupBy("q", "code", "human").count().withColumnRenamed("count", "n"))
        return frame.astype({"human": bool})

    def annotators(self, question: str, limit: int) -> tuple[int, list[Any]]:
        F = self._F
        row = self._human(question).agg(
            F.countDistinct("annotator").alias("n"), F.slice(F.collect_set("annotator"), 1, limit).alias("names")
        ).collect()[0]
        return int(row["n"]), list(row["names"] or [])

    def item_patterns(self, question: str, n_codes: int, bits: int | None) -> tuple[pd.DataFrame, int]:
        F = self._F
        key = (
            F.sum(F.expr(f"shiftleft(CAST(1 AS BIGINT), code * {int(bits)})")) if bits
            else F.sort_array(F.collect_list("code"))
        )
        from pyspark import StorageLevel

        items = self._human(question).groupBy("item").agg(F.count(F.lit(1)).alias("m"), key.alias("key"))
        items = items.persist(StorageLevel.MEMORY_AND_DISK)
        try:
            patterns = _to_pandas(items.groupBy("key").agg(F.count(F.lit(1)).alias("n_items")))
            pairable_items = items.where(F.col("m") >= 2).select("item")
            pairable = self._human(question).join(pairable_items, "item", "left_semi").agg(
                F.countDistinct("annotator")
            ).collect()[0][0]
        finally:
            items.unpersist()
        return patterns.rename(columns={"key": "key" if bits else "codes"}), int(pairable)

    def pair_counts(self, question: str, a: str, b: str) -> tuple[pd.DataFrame, int, int]:
        F = self._F
        rows = self._human(question).select("item", F.col("annotator").cast("string").alias("who"), "code")
        rows = rows.where(F.col("who").isin(a, b))
        first = rows.where(F.col("who") == a).select("item", F.col("code").alias("code_a"))
        second = rows.where(F.col("who") == b).select("item", F.col("code").alias("code_b"))
        table = _to_pandas(first.join(second, "item").groupBy("code_a", "code_b").agg(F.count(F.lit(1)).alias("n")))
        counts = rows.groupBy("who").count().collect()
        per = {r["who"]: int(r["count"]) for r in counts}
        return table, per.get(a, 0), per.get(b, 0)

    def window_counts(self, question: str, by: str) -> pd.DataFrame:
        F = self._F
        window = {
            "day": F.date_format("ts", "yyyy-MM-dd"),
            "week": F.date_format(F.date_trunc("week", "ts"), "yyyy-MM-dd"),
            "batch": F.col("batch"),
            "annotator": F.col("annotator"),
            "kind": F.when(F.col("human"), "human").otherwise("model"),
        }[by]
        grouped = self._human(question).groupBy(window.alias("window"), "code").agg(F.count(F.lit(1)).alias("n"))
        return _to_pandas(grouped)

    def raw_column(self, canonical: str) -> str | None:
        return self._columns.get(canonical)

    def close(self) -> None:
        for frame in self._cached:
            frame.unpersist()
        self._cached = []

    def _human(self, question: str) -> Any:
        F = self._F
        return self._kept.where((F.col("q") == question) & F.col("human"))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(number)
    if isinstance(value, (np.integer,)):
        return str(int(value))
    return str(value)


def _to_pandas(frame: Any) -> pd.DataFrame:
    """A small reduced table on the driver (pyspark warns about pandas 3; the tables here are
    plain numbers and strings, which it converts correctly)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyspark's pandas-3 FutureWarning and Pandas4Warning
        return frame.toPandas()




def _timestamp_columns(F: Any, column: Any, kind: str) -> tuple[Any, Any]:
    if column is None:
        return F.lit(None).cast("timestamp"), F.lit(False)
    if kind.startswith("timestamp") or kind == "date":
        return column.cast("timestamp"), F.lit(False)
    if kind in ("bigint", "int", "double", "float", "smallint") or kind.startswith("decimal"):
        return F.timestamp_micros((column.cast("double") * 1e6).cast("long")), F.lit(False)
    text = F.when(F.trim(column.cast("string")) != "", F.trim(column.cast("string")))
    parsed = F.try_to_timestamp(text)
    return parsed, text.isNotNull() & parsed.isNull()


def _is_nested_spark_type(type_name: str) -> bool:
    return type_name.startswith(("array", "struct", "map"))
