"""Engines: the same metrics on tables too large to load, reduced where the data lives.

Every agreement coefficient, class balance and drift is a function of small group-by tables
(DESIGN.md, "sufficient statistics"). An engine computes those tables with SQL (DuckDB, embedded
and out of core) or DataFrame operations (Spark), and the coefficient code of ``metrics`` runs
on them: no metric is implemented twice, and results equal the in-memory engine's.

>>> from qa.engines import ENGINES
>>> ENGINES
('pandas', 'duckdb', 'spark', 'auto')

Use ``qa.load(path, engine="duckdb")`` (or :func:`open_engine`), which returns a lazy
:class:`ReducedAnnotationSet`; see docs/engines.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qa.engines._reduced import (
    SUPPORTED_KINDS,
    EngineLoadReport,
    EngineUnsupportedError,
    QuestionReduction,
    ReducedAnnotationSet,
    memory_share_engine,
    total_memory_bytes,
)

ENGINES = ("pandas", "duckdb", "spark", "auto")
"""``pandas``: load in memory (every metric); ``duckdb`` / ``spark``: reduce in the engine;
``auto``: ``duckdb`` for a file larger than :data:`AUTO_MEMORY_SHARE` of the RAM once loaded."""

AUTO_MEMORY_SHARE = 0.25
"""``auto`` picks DuckDB when file size x :data:`AUTO_EXPANSION` exceeds this share of RAM."""

AUTO_EXPANSION = 20.0
"""Peak in-memory bytes of ``qa.load`` per file byte of a long table: 24x (5M rows, 47 MB
Parquet, 1.1 GB peak) and 21x (20M rows, 188 MB, 3.9 GB), bench/results/engines.txt; CSV is
larger on disk, so this overestimates it, erring towards DuckDB."""


def choose_engine(path: str | Path, engine: str = "auto", *, share: float = AUTO_MEMORY_SHARE) -> str:
    """The engine ``engine`` names, with ``auto`` resolved for ``path``: ``duckdb`` for a
    Parquet or CSV file whose loaded size (file size x ``AUTO_EXPANSION``) would exceed ``share``
    of the machine's memory, else ``pandas`` (also for JSON lines and tool exports, which the
    engines do not read).

    >>> choose_engine("any.parquet", "spark")
    'spark'
    """
    if engine not in ENGINES:
        raise ValueError(f"engine {engine!r} is not one of {ENGINES}")
    if engine != "auto":
        return engine
    if not _is_long_table(Path(path)):
        return "pandas"
    return memory_share_engine(path, share=share, expansion=AUTO_EXPANSION)


def _is_long_table(path: Path) -> bool:
    """A Parquet, CSV or TSV long table (the only exports the engines read)."""
    from qa.load import detect_format

    if not path.is_file():
        return False
    try:
        return detect_format(path) == "long" and not _first_text(path).lstrip().startswith("{")
    except Exception:  # undetectable: the in-memory loader reports it with its own message
        return False


def _first_text(path: Path) -> str:
    with open(path, "rb") as handle:
        return handle.read(64).decode("utf-8", errors="replace")


def open_engine(
    source: Any,
    engine: str = "duckdb",
    *,
    column_map: dict[str, str] | None = None,
    question: str | None = None,
    **options: Any,
) -> ReducedAnnotationSet:
    """Reduce ``source`` with ``engine`` (``duckdb`` or ``spark``).

    Parameters
    ----------
    source : a Parquet or CSV/TSV path (DuckDB, Spark); for Spark also a ``pyspark``
        DataFrame or a table name.
    column_map, question : as ``qa.load``.
    options : engine settings: DuckDB ``memory_limit`` (default 2GB), ``threads`` (2),
        ``temp_directory``; Spark ``spark`` (a SparkSession; default: the active one, else a
        local one).
    """
    if engine == "duckdb":
        from qa.engines.duckdb_engine import DuckDBBackend

        backend = DuckDBBackend(source, column_map=column_map, question=question, **options)
    elif engine == "spark":
        from qa.engines.spark_engine import SparkBackend

        backend = SparkBackend(source, column_map=column_map, question=question, **options)
    else:
        raise ValueError(f"open_engine reduces with 'duckdb' or 'spark', not {engine!r}")
    try:
        return ReducedAnnotationSet(backend)
    except BaseException:
        backend.close()
        raise


__all__ = [
    "AUTO_EXPANSION",
    "AUTO_MEMORY_SHARE",
    "ENGINES",
    "SUPPORTED_KINDS",
    "EngineLoadReport",
    "EngineUnsupportedError",
    "QuestionReduction",
    "ReducedAnnotationSet",
    "choose_engine",
    "open_engine",
    "total_memory_bytes",
]
