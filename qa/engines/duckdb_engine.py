"""The DuckDB engine: the reductions as SQL over a Parquet or CSV long table, out of core.

DuckDB runs in the process (no server) on a database file in a temporary directory, with a
memory limit and a spill directory, so a table larger than memory is deduplicated and grouped on
disk. Only the reduced tables (value-count patterns, pair tables, label counts) come back to
Python; the coefficients are ``metrics``' own (see :mod:`qa.engines._reduced`).

The steps (each one SQL statement):

1. inventory: ``GROUP BY question, label, gold, kind`` over the file (a few hundred rows);
   labels are parsed in Python, once per distinct value, by the long-table loader's parser;
2. ``kept``: non-gold rows with a label, deduplicated on ``(question, item, annotator)``. The
   duplicated keys are found by a count-only aggregate (which spills), and only their rows go
   through ``arg_max`` on ``(created_at, file row)``;
3. per question: ``GROUP BY item`` packing each item's value counts into one BIGINT (or a sorted
   list of codes when they do not fit), then ``GROUP BY`` that key: the patterns.

Row order (the tie-break of duplicates) is ``file_row_number`` for Parquet and ``row_number()
OVER ()`` of the CSV scan, which DuckDB streams in file order.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from qa.engines._reduced import resolve_columns
from qa.errors import InputError

DEFAULT_MEMORY_LIMIT = "2GB"
"""DuckDB's memory limit: the process stays well under 4 GB and DuckDB spills beyond it."""

DEFAULT_THREADS = 2
TRUE_WORDS = ("true", "t", "yes", "y", "1", "1.0")
"""``is_gold`` values read as true (the long-table loader's words)."""



class DuckDBBackend:
    """Group-by queries of :class:`qa.engines._reduced.Backend` on DuckDB.

    Parameters
    ----------
    path : a Parquet file (or a glob of them) or a CSV/TSV file.
    column_map : canonical column -> the file's column (as ``qa.load``).
    question : the question name when the table has no ``question`` column.
    memory_limit, threads, temp_directory : DuckDB settings (spill directory: a new temporary
        directory, removed by :meth:`close`).
    """

    name = "duckdb"

    def __init__(
        self,
        path: str | Path,
        *,
        column_map: dict[str, str] | None = None,
        question: str | None = None,
        memory_limit: str = DEFAULT_MEMORY_LIMIT,
        threads: int = DEFAULT_THREADS,
        temp_directory: str | Path | None = None,
    ) -> None:
        import duckdb

        self.source = str(path)
        self._workdir = Path(tempfile.mkdtemp(prefix="aqa-duckdb-", dir=temp_directory))
        # the database and spill files go even when the caller never calls close()
        atexit.register(shutil.rmtree, self._workdir, True)
        self._con = duckdb.connect(str(self._workdir / "reduce.duckdb"))
        for statement in (
            f"SET memory_limit = '{memory_limit}'",
            f"SET threads = {int(threads)}",
            f"SET temp_directory = '{self._workdir / 'spill'}'",
            "SET TimeZone = 'UTC'",
        ):
            self._con.execute(statement)
        self.source_kind = _source_kind(Path(path))
        self._define_source(Path(path), dict(column_map or {}), question)

    # -- the source view ---------------------------------------------------------------------
    def _define_source(self, path: Path, column_map: dict[str, str], question: str | None) -> None:
        quoted = _literal(str(path))
        if self.source_kind == "parquet":
            scan = f"SELECT *, file_row_number AS __row FROM read_parquet({quoted}, file_row_number = true)"
        else:
            delimiter = "\t" if "\t" in _first_line(path) else ","
            self._con.execute("SET preserve_insertion_order = true")
            scan = (
                f"SELECT *, row_number() OVER () - 1 AS __row FROM read_csv({quoted}, all_varchar = true, "
                f"header = true, delim = {_literal(delimiter)}, quote = '\"', escape = '\"')"
            )
        self._con.execute(f"CREATE VIEW raw AS {scan}")
        types = dict(self._con.execute("SELECT column_name, column_type FROM (DESCRIBE raw)").fetchall())
        columns = self._columns = resolve_columns(types, column_map, self.source, nested_label=_is_nested_duckdb_type)
        self.has_columns = frozenset(
            name for name, canonical in (("batch", "batch"), ("kind", "annotator_kind"), ("annotator", "annotator_id"))
            if canonical in columns
        )
        question_expr = _identifier(columns["question"]) if "question" in columns else _literal(question or "label")
        kind_expr = f"CAST({_identifier(columns['annotator_kind'])} AS VARCHAR)" if "annotator_kind" in columns else "NULL::VARCHAR"
        gold_expr = (
            f"coalesce(lower(trim(CAST({_identifier(columns['is_gold'])} AS VARCHAR))) IN ({', '.join(map(_literal, TRUE_WORDS))}), false)"
            if "is_gold" in columns else "false"
        )
        batch_expr = _identifier(columns["batch"]) if "batch" in columns else "NULL"
        ts_expr, bad_expr = _timestamp_expressions(columns.get("created_at"), types)
        self._con.execute(f"""
            CREATE VIEW src AS SELECT
                {question_expr} AS question, {_identifier(columns['item_id'])} AS item,
                {_identifier(columns['annotator_id'])} AS annotator, {_identifier(columns['label'])} AS label,
                {kind_expr} AS kind, {gold_expr} AS gold, {batch_expr} AS batch,
                {ts_expr} AS ts, {bad_expr} AS bad_ts, __row AS row
            FROM raw""")

    # -- Backend ----------------------------------------------------------------------------
    def inventory(self) -> pd.DataFrame:
        return self._df("""
            SELECT question, label, gold, kind, count(*) AS n, min(row) AS first_row,
                   count(*) FILTER (WHERE item IS NULL) AS missing_item,
                   count(*) FILTER (WHERE annotator IS NULL AND NOT gold) AS missing_annotator,
                   count(*) FILTER (WHERE bad_ts) AS bad_timestamp
            FROM src GROUP BY ALL""")

    def build_kept(self, mapping: pd.DataFrame) -> tuple[int, int]:
        types = dict(self._con.execute("SELECT column_name, column_type FROM (DESCRIBE src)").fetchall())
        self._con.register("label_mapping", mapping.astype({"question": object, "label": object, "q": object}))
        self._con.execute(f"""
            CREATE TABLE mapping AS SELECT CAST(question AS {types['question']}) AS question,
                   CAST(label AS {types['label']}) AS label, CAST(q AS VARCHAR) AS q, code
            FROM label_mapping""")
        self._con.unregister("label_mapping")
        # Rows with a label, joined to their question name and value code.
        self._con.execute("""
            CREATE VIEW labelled AS SELECT m.q, s.item, s.annotator, m.code::INTEGER AS code,
                   coalesce(s.kind, 'human') = 'human' AS human, s.batch, s.ts, s.row
            FROM src s JOIN mapping m ON s.question = m.question AND s.label = m.label
            WHERE NOT s.gold""")
        # A count-only aggregate finds the duplicated keys (it spills to disk); only their rows
        # pay for arg_max.
        self._con.execute("""
            CREATE TABLE duplicated AS SELECT q, item, annotator, count(*) AS n
            FROM labelled GROUP BY ALL HAVING count(*) > 1""")
        self._con.execute("""
            CREATE TABLE kept AS
            SELECT l.q, l.item, l.annotator, l.code, l.human, l.batch, l.ts FROM labelled l
            ANTI JOIN duplicated d ON l.q = d.q AND l.item = d.item AND l.annotator = d.annotator
            UNION ALL
            SELECT q, item, annotator, latest.code, latest.human, latest.batch, latest.ts FROM (
                SELECT l.q, l.item, l.annotator,
                       arg_max({'code': l.code, 'human': l.human, 'batch': l.batch, 'ts': l.ts},
                               {'t': coalesce(l.ts, '-infinity'::TIMESTAMPTZ), 'r': l.row}) AS latest
                FROM labelled l SEMI JOIN duplicated d
                    ON l.q = d.q AND l.item = d.item AND l.annotator = d.annotator
                GROUP BY ALL)""")
        kept = self._con.execute("SELECT count(*) FROM kept").fetchone()[0]
        duplicates = self._con.execute("SELECT coalesce(sum(n - 1), 0) FROM duplicated").fetchone()[0]
        return int(kept), int(duplicates)

    def value_counts(self) -> pd.DataFrame:
        return self._df("SELECT q, code, human, count(*) AS n FROM kept GROUP BY ALL")

    def annotators(self, question: str, limit: int) -> tuple[int, list[Any]]:
        count = self._con.execute(
            "SELECT count(DISTINCT annotator) FROM kept WHERE q = ? AND human", [question]
        ).fetchone()[0]
        names = self._con.execute(
            "SELECT DISTINCT annotator FROM kept WHERE q = ? AND human LIMIT ?", [question, limit]
        ).fetchall()
        return int(count), [row[0] for row in names]

    def item_patterns(self, question: str, n_codes: int, bits: int | None) -> tuple[pd.DataFrame, int]:
        key = f"sum(1::BIGINT << (code * {int(bits)}))" if bits else "list_sort(list(code))"
        self._con.execute(f"""
            CREATE OR REPLACE TEMP TABLE items AS
            SELECT item, count(*) AS m, {key} AS key FROM kept WHERE q = ? AND human GROUP BY item""",
            [question])
        patterns = self._df("SELECT key, count(*) AS n_items FROM items GROUP BY key")
        pairable = self._con.execute(
            "SELECT count(DISTINCT k.annotator) FROM kept k SEMI JOIN (SELECT item FROM items WHERE m >= 2) i "
            "ON k.item = i.item WHERE k.q = ? AND k.human", [question]
        ).fetchone()[0]
        self._con.execute("DROP TABLE items")
        return patterns.rename(columns={"key": "key" if bits else "codes"}), int(pairable)

    def pair_counts(self, question: str, a: str, b: str) -> tuple[pd.DataFrame, int, int]:
        self._con.execute("""
            CREATE OR REPLACE TEMP TABLE pair AS SELECT item, CAST(annotator AS VARCHAR) AS who, code
            FROM kept WHERE q = ? AND human AND CAST(annotator AS VARCHAR) IN (?, ?)""", [question, a, b])
        table = self._df(
            "SELECT x.code AS code_a, y.code AS code_b, count(*) AS n FROM pair x JOIN pair y "
            "ON x.item = y.item AND x.who = ? AND y.who = ? GROUP BY ALL", [a, b])
        n_a, n_b = self._con.execute(
            "SELECT count(*) FILTER (WHERE who = ?), count(*) FILTER (WHERE who = ?) FROM pair", [a, b]
        ).fetchone()
        self._con.execute("DROP TABLE pair")
        return table, int(n_a), int(n_b)

    def window_counts(self, question: str, by: str) -> pd.DataFrame:
        window = {
            "day": "strftime(ts, '%Y-%m-%d')",
            "week": "strftime(date_trunc('week', ts), '%Y-%m-%d')",
            "batch": "batch",
            "annotator": "annotator",
            "kind": "CASE WHEN human THEN 'human' ELSE 'model' END",
        }[by]
        return self._df(f"SELECT {window} AS window, code, count(*) AS n FROM kept WHERE q = ? AND human GROUP BY ALL",
                        [question])

    def raw_column(self, canonical: str) -> str | None:
        return self._columns.get(canonical)

    def close(self) -> None:
        try:
            self._con.close()
        finally:
            shutil.rmtree(self._workdir, ignore_errors=True)

    # -- helpers ----------------------------------------------------------------------------
    def _df(self, sql: str, parameters: list | None = None) -> pd.DataFrame:
        return self._con.execute(sql, parameters or []).df()


def _source_kind(path: Path) -> str:
    if path.is_dir() or any(ch in str(path) for ch in "*?["):
        return "parquet"
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", path=path) from None
    if head == b"PAR1":
        return "parquet"
    if _first_line(path).lstrip("\ufeff \t").startswith(("{", "[")):
        raise InputError(
            "the DuckDB engine reads Parquet and CSV/TSV long tables; JSON exports are loaded in memory "
            "(engine='pandas') or converted first (aqa convert EXPORT table.parquet)",
            path=path,
        )
    return "csv"


def _first_line(path: Path) -> str:
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.readline()




def _timestamp_expressions(column: str | None, types: dict[str, str]) -> tuple[str, str]:
    """``created_at`` as TIMESTAMPTZ (UTC), and a flag for values that could not be read."""
    if column is None:
        return "NULL::TIMESTAMPTZ", "false"
    name, kind = _identifier(column), types[column].upper()
    if "TIMESTAMP" in kind or kind == "DATE":
        return f"CAST({name} AS TIMESTAMPTZ)", "false"
    if kind in ("BIGINT", "INTEGER", "DOUBLE", "FLOAT", "HUGEINT", "UBIGINT", "SMALLINT") or kind.startswith("DECIMAL"):
        return f"to_timestamp(CAST({name} AS DOUBLE))", "false"
    text = f"nullif(trim(CAST({name} AS VARCHAR)), '')"
    parsed = f"TRY_CAST({text} AS TIMESTAMPTZ)"
    return parsed, f"({text} IS NOT NULL AND {parsed} IS NULL)"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _is_nested_duckdb_type(type_name: str) -> bool:
    type_name = type_name.upper()
    return type_name.endswith("[]") or type_name.startswith(("STRUCT", "MAP", "LIST"))
