"""Long tables: one row per item x annotator (x question), as CSV, TSV, Parquet or JSON lines.

Columns (names as in DESIGN.md; other names through ``column_map``, e.g.
``{"item_id": "task_id", "annotator_id": "worker"}``; the keys ``item`` and ``annotator`` are
accepted for ``item_id`` and ``annotator_id``):

- required: ``item_id``, ``annotator_id``, ``label``;
- optional: ``question`` (else ``LoadOptions.question`` or ``label``), ``created_at`` (ISO 8601,
  MTurk's ``Mon Mar 02 08:11:00 PST 2026``, or Unix seconds; stored in UTC), ``lead_time_s``,
  ``batch``, ``annotator_kind`` (``human`` / ``model``);
- ``text``: the item's text, to the items table;
- ``gold``: the known answer of the row's item and question, repeated on its rows (blank where
  unknown); ``is_gold`` (true/false, yes/no, 1/0): a true row *is* a known answer (its ``label``
  goes to the gold table, not to the annotations);
- any other column that holds one value per item becomes item metadata; the rest are ignored,
  and the load report's notes say which.

Labels: a question whose labels are all numbers keeps them as numbers (ratings); otherwise labels
are category strings. A JSON list is a multi-label answer (a lone category in a multi-label
question is a set of one) (``["billing", "bug"]`` ->
``frozenset``) or, when its elements are ``[start, end, label]`` triples or objects with
``start``/``end``/``label``, a span answer (-> ``tuple`` of ``Span``); ``[]`` is "no spans" in a
span question and an empty answer elsewhere. ``"a|b"`` is *not* split: ``|`` is a legal character
in a category name, JSON lists are not ambiguous.

Records in messages are line numbers for CSV, TSV and JSON lines (the CSV header is line 1) and
1-based row numbers for Parquet.

Reading is vectorized: ids, labels and timestamps are parsed once per distinct value and held as
categorical codes, so a 5-million-row Parquet file loads in seconds.
"""

from __future__ import annotations

import codecs
import csv
import json
import math
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qa.errors import InputError
from qa.loaders._build import AnnotationSetBuilder, LoadOptions
from qa.loaders._jsonio import iter_json_lines, not_utf8_error
from qa.schema import (
    ANNOTATOR_KINDS,
    DEFAULT_QUESTION,
    AnnotationSet,
    Span,
    _id_string,
    is_missing_label,
)

NAME = "long"

REQUIRED = ("item_id", "annotator_id", "label")
OPTIONAL = ("question", "created_at", "lead_time_s", "batch", "annotator_kind", "text", "gold", "is_gold")
CANONICAL = REQUIRED + OPTIONAL
MAP_ALIASES = {"item": "item_id", "annotator": "annotator_id", "kind": "annotator_kind"}
TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "1.0"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "0.0", ""})
# MTurk writes local time with a US zone abbreviation (Batch results CSV, SubmitTime).
ZONE_OFFSETS_H = {"UTC": 0, "GMT": 0, "PST": -8, "PDT": -7, "MST": -7, "MDT": -6, "CST": -6, "CDT": -5, "EST": -5, "EDT": -4}
_MTURK_TIME = re.compile(r"^\s*[A-Za-z]{3}\s+([A-Za-z]{3}\s+\d{1,2}\s+\d{1,2}:\d{2}:\d{2})\s+([A-Za-z]+)\s+(\d{4})\s*$")
_NUMBER = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$")
_EMPTY_LIST = object()  # "[]": no spans in a span question, no answer elsewhere
DELIMITERS = ("\t", ",", ";")  # TSV, CSV, and the semicolon CSV of European spreadsheet locales
# Unix times beyond this many seconds (year 5138) are not seconds: most likely milliseconds.
MAX_UNIX_SECONDS = 1e11
# Columns that hold one scalar per row: a JSON list or object there is an error, not a value.
SCALAR_COLUMNS = ("item_id", "annotator_id", "question", "created_at", "lead_time_s", "batch", "annotator_kind", "is_gold")
# infer_dtype results that cannot hold a list or an object (checked without a Python loop).
_PLAIN_INFERRED = frozenset({"string", "integer", "floating", "mixed-integer-float", "boolean", "empty", "decimal",
                             "datetime", "datetime64", "date", "timedelta", "timedelta64", "bytes"})
_JSON_KEY = '"{}"\\s*:'
# Lines with more brackets than this are read by Python's json (which stops at its recursion
# limit with an error) instead of pyarrow's reader (which overflows the C stack near 20,000).
ARROW_JSON_MAX_BRACKETS = 5_000


# ---------------------------------------------------------------------------------------------
# detection
# ---------------------------------------------------------------------------------------------


def sniff(path: Path, head: str) -> bool:
    """Parquet, JSON lines whose first record has the required keys, or a delimited header
    that names at least one required column (a missing one is then reported by name, which
    says more than "unknown format")."""
    if head == "PAR1":
        return True
    first = _first_line(head)
    if first.startswith("{"):
        try:
            record = json.loads(first)
        except RecursionError:
            return False
        except ValueError:
            # a first line longer than the sniffed head: look for the keys in what was read
            if "\n" not in head.strip():
                return all(re.search(_JSON_KEY.format(name), first) for name in REQUIRED)
            return False
        return isinstance(record, dict) and set(REQUIRED) <= set(record)
    return bool(set(REQUIRED) & set(_header_fields(first)))


def _first_line(text: str) -> str:
    for line in text.lstrip("\ufeff").splitlines():
        if line.strip():
            return line.strip()
    return ""


def _header_fields(line: str) -> list[str]:
    try:
        return [name.strip() for name in next(csv.reader([line], delimiter=delimiter_of(line)))]
    except (csv.Error, StopIteration):
        return []


def delimiter_of(header: str) -> str:
    """The delimiter of a header line: tab, comma or semicolon, whichever splits it into the most
    fields (a comma on a tie).

    >>> delimiter_of("item_id;annotator_id;label"), delimiter_of("item_id,annotator_id,label")
    (';', ',')
    """
    def width(delimiter: str) -> int:
        try:
            return len(next(csv.reader([header], delimiter=delimiter)))
        except (csv.Error, StopIteration):
            return 0

    return max(DELIMITERS, key=lambda d: (width(d), d == ","))


# ---------------------------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------------------------


def load(path: Path, options: LoadOptions) -> AnnotationSet:
    """Load a long table (see the module docstring for columns and label rules).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "t.csv").write_text("item_id,annotator_id,label\\n1,amir,4\\n1,bea,5\\n")
    >>> loaded = load(folder / "t.csv", LoadOptions())
    >>> loaded.annotations["label"].tolist(), loaded.question("label").kind
    ([4.0, 5.0], 'ordinal')
    """
    if path.is_dir():
        raise InputError("a long table is one file, not a directory", path=path)
    table, records = read_table(path, _column_map(options.column_map, path))
    builder = AnnotationSetBuilder(path, NAME, options)
    add_table(builder, table, records)
    return builder.build()


def _column_map(column_map: dict[str, str], path: Path) -> dict[str, str]:
    resolved = {}
    for key, column in column_map.items():
        canonical = MAP_ALIASES.get(key, key)
        if canonical not in CANONICAL:
            raise InputError(
                f"column_map key {key!r} is not a canonical column; expected one of {', '.join(CANONICAL)}",
                path=path, field=key,
            )
        resolved[canonical] = column
    return resolved


def read_table(path: Path, column_map: dict[str, str]) -> tuple[pd.DataFrame, np.ndarray]:
    """The file as a DataFrame with canonical column names, and each row's record number."""
    kind = _content_kind(path)
    reader = {"parquet": _read_parquet, "jsonl": _read_jsonl, "delimited": _read_delimited}[kind]
    table, first_record = reader(path, column_map)
    if table.empty and len(table.columns) == 0:
        raise InputError("the file holds no rows", path=path)
    table = _apply_column_map(table, column_map, path, header_record=1 if kind == "delimited" else None)
    if len(table) == 0:
        raise InputError("the file holds a header but no rows", path=path)
    return table, np.arange(first_record, first_record + len(table), dtype=np.int64)


def _content_kind(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            raw = handle.read(64 * 1024)
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", path=path) from None
    if raw[:4] == b"PAR1":
        return "parquet"
    if not raw.strip():
        raise InputError("the file is empty", path=path)
    if b"\x00" in raw:
        raise InputError("not a text table: the file holds binary data (NUL bytes); expected CSV, TSV, JSON lines or Parquet", path=path)
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(raw, final=False)
    except UnicodeDecodeError:
        raise not_utf8_error(path) from None
    first = _first_line(text)
    if first.startswith("{"):
        return "jsonl"
    if first.startswith("["):
        raise InputError("a JSON array, not a long table (expected JSON lines: one object per line)", path=path, record=1)
    return "delimited"


def _read_parquet(path: Path, column_map: dict[str, str]) -> tuple[pd.DataFrame, int]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
        strings = [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
        table = pq.read_table(path, read_dictionary=strings)
        # free each Arrow column as it is converted: peak memory of one copy, not two
        frame = table.to_pandas(self_destruct=True, split_blocks=True)
        del table
    except (pa.ArrowException, OSError, ValueError) as err:
        raise InputError(f"not a readable Parquet file ({_first_sentence(err)})", path=path) from None
    return frame, 1


def _read_delimited(path: Path, column_map: dict[str, str]) -> tuple[pd.DataFrame, int]:
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        header_line = handle.readline()
    delimiter = delimiter_of(header_line)
    _check_header(_header_fields(header_line), column_map, path)
    # text as written ("007" stays "007", not 7); ids and labels are factorized once, later
    return read_delimited_text(path, delimiter), 2


def read_delimited_text(path: Path, delimiter: str = ",") -> pd.DataFrame:
    """A CSV / TSV file as text columns (blank cells missing), with one ``InputError`` for a file
    that is not a well-formed table: a row with more fields than the header, an unclosed quote,
    bytes that are not UTF-8. A UTF-8 byte-order mark is dropped."""
    kind = "TSV" if delimiter == "\t" else "CSV"
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            # index_col=False: a first row with an extra field must not become an index
            frame = pd.read_csv(
                path, sep=delimiter, dtype=str, keep_default_na=False, na_values=[""], index_col=False,
                encoding="utf-8-sig", skipinitialspace=False,
            )
    except pd.errors.EmptyDataError:
        raise InputError("the file is empty", path=path) from None
    except pd.errors.ParserError as err:
        raise InputError(
            f"not a well-formed {kind} table ({_first_sentence(err)})", path=path, record=parser_error_line(err),
        ) from None
    except UnicodeDecodeError:
        raise not_utf8_error(path) from None
    if any("Length of header" in str(w.message) for w in caught):
        raise InputError(
            f"not a well-formed {kind} table: the first row has more fields than the header's "
            f"{len(frame.columns)} (a stray {'tab' if kind == 'TSV' else repr(delimiter)} or a missing header name?)",
            path=path, record=2,
        )
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def parser_error_line(err: Exception) -> int | None:
    """The line a pandas CSV parser error points at (its "row" counts the header as row 0)."""
    line = re.search(r"line (\d+)", str(err))
    if line:
        return int(line.group(1))
    row = re.search(r"row (\d+)", str(err))
    return int(row.group(1)) + 1 if row else None


def _check_header(fields: list[str], column_map: dict[str, str], path: Path) -> None:
    """Fail before reading a whole file whose header is not a long table's."""
    present = set(fields)
    for name in REQUIRED:
        if column_map.get(name, name) not in present:
            raise _missing_column(name, column_map, fields, path, record=1)
    used = {column_map.get(name, name) for name in CANONICAL}
    twice = sorted({f for f in fields if fields.count(f) > 1} & used)
    if twice:
        raise InputError(
            f"the header names column {twice[0]!r} twice; which one holds the {twice[0]} is ambiguous",
            path=path, record=1, field=twice[0],
        )


def _missing_column(name: str, column_map: dict[str, str], columns: list[str], path: Path, record: Any) -> InputError:
    shown = ", ".join(columns[:12]) + (", ..." if len(columns) > 12 else "")
    if name in column_map:
        return InputError(
            f"column_map maps {name} to {column_map[name]!r}, but there is no such column; the columns are: {shown}",
            path=path, record=record, field=column_map[name],
        )
    return InputError(
        f"missing required column {name!r}; the columns are: {shown} "
        f"(name yours with column_map, e.g. {{'{name}': 'your_column'}})",
        path=path, record=record, field=name,
    )


def _read_jsonl(path: Path, column_map: dict[str, str]) -> tuple[pd.DataFrame, int]:
    import pyarrow as pa
    import pyarrow.json as pj

    if _has_blank_lines(path) or _max_brackets_per_line(path) > ARROW_JSON_MAX_BRACKETS:
        return _read_jsonl_records(path), 1
    try:
        table = pj.read_json(path)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return _read_jsonl_records(path), 1  # locates the bad line, or reads mixed types
    return table.to_pandas(), 1


def _has_blank_lines(path: Path) -> bool:
    with open(path, "rb") as handle:
        previous = b"\n"
        while chunk := handle.read(1 << 20):
            if b"\n\n" in previous[-1:] + chunk or b"\n\r\n" in previous[-2:] + chunk:
                return True
            previous = chunk
    return False


def _max_brackets_per_line(path: Path) -> int:
    """The most ``[`` / ``{`` on one line: a bound on the line's JSON nesting depth, read with numpy
    (pyarrow's JSON reader crashes the process on nesting some ten thousand levels deep)."""
    most, carried = 0, 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            raw = np.frombuffer(chunk, dtype=np.uint8)
            opened = np.cumsum((raw == ord("[")) | (raw == ord("{")), dtype=np.int64)
            ends = np.flatnonzero(raw == ord("\n"))
            at_ends = np.concatenate(([0], opened[ends]))
            per_line = np.diff(at_ends)
            if len(ends):
                per_line[0] += carried
                most = max(most, int(per_line.max()))
                carried = int(opened[-1] - opened[ends[-1]])
            else:
                carried += int(opened[-1]) if len(opened) else 0
            most = max(most, carried)
    return most


def _read_jsonl_records(path: Path) -> pd.DataFrame:
    """JSON lines the slow way: one ``json.loads`` per line, naming the first bad line."""
    records, lines = [], []
    for number, record in iter_json_lines(path):
        records.append(record)
        lines.append(number)
    frame = pd.DataFrame.from_records(records)
    frame.attrs["lines"] = np.asarray(lines, dtype=np.int64)
    return frame


def _plain_values(column: pd.Series) -> pd.Series:
    """Lists / arrays / dicts (unhashable) as JSON text, parsed later once per distinct value."""
    def plain(value: Any) -> Any:
        if isinstance(value, np.ndarray):
            value = value.tolist()
        if isinstance(value, (list, dict)):
            return json.dumps(_to_builtin(value))
        return value

    return column.map(plain)


def _plain_columns(table: pd.DataFrame, records: np.ndarray, path: Path) -> pd.DataFrame:
    """Check the shape of nested values (JSON lines, Parquet list / struct columns): an id, time
    or kind must be one scalar, a label a scalar or a list; lists and objects elsewhere become
    JSON text (hashable, parsed once per distinct value)."""
    for column in table.columns:
        values = table[column]
        if values.dtype != object or pd.api.types.infer_dtype(values, skipna=True) in _PLAIN_INFERRED:
            continue
        nested = np.fromiter((isinstance(v, (list, dict, tuple, np.ndarray)) for v in values), dtype=bool, count=len(values))
        if not nested.any():
            continue
        is_object = np.fromiter((isinstance(v, dict) for v in values), dtype=bool, count=len(values))
        bad = nested if column in SCALAR_COLUMNS else is_object if column in ("label", "gold") else None
        if bad is not None and bad.any():
            position = int(np.argmax(bad))
            found = "an object" if is_object[position] else "a list"
            expected = "a string or a number" if column in SCALAR_COLUMNS else (
                "a category, a number, or a list of categories or of spans")
            raise InputError(
                f"expected {expected}, found {found}: {_short(json.dumps(_to_builtin(values.iloc[position]), default=str))}",
                path=path, record=int(records[position]), field=column,
            )
        table[column] = _plain_values(values)
    return table


def _to_builtin(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return [_to_builtin(v) for v in value.tolist()]
    if isinstance(value, list):
        return [_to_builtin(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_builtin(v) for k, v in value.items() if v is not None}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _apply_column_map(table: pd.DataFrame, column_map: dict[str, str], path: Path, header_record: Any) -> pd.DataFrame:
    columns = [str(c) for c in table.columns]
    for name, column in column_map.items():
        if column not in columns:
            raise _missing_column(name, column_map, columns, path, record=header_record)
    mapped = set(column_map.values())
    shadowed = [name for name in column_map if name in columns and name not in mapped]
    table = table.drop(columns=shadowed).rename(columns={v: k for k, v in column_map.items()})
    if "lines" in table.attrs:
        table.attrs["lines"] = table.attrs["lines"]
    for name in REQUIRED:
        if name not in table.columns:
            raise _missing_column(name, column_map, columns, path, record=header_record)
    return table


# ---------------------------------------------------------------------------------------------
# the vectorized route into the builder (also used by the MTurk loader)
# ---------------------------------------------------------------------------------------------


def add_table(
    builder: AnnotationSetBuilder, table: pd.DataFrame, records: np.ndarray, *, count_records: bool = True
) -> None:
    """Add a table with canonical column names (see the module docstring) to ``builder``;
    ``records`` names each row's record (line or row number)."""
    path = builder.path
    if "lines" in table.attrs and len(table.attrs["lines"]) == len(table):
        records = table.attrs["lines"]
    table = _plain_columns(table, records, path)
    if count_records:
        builder.records_read += len(table)
    item_id = _id_column(table["item_id"], "item_id", records, path)
    question = _question_column(table, builder.options, records, path)
    gold_rows = _truth_column(table["is_gold"], "is_gold", records, path) if "is_gold" in table else None
    annotator_id = _id_column(
        table["annotator_id"], "annotator_id", records, path, allow_missing=False if gold_rows is None else gold_rows
    )
    codes, values, numeric_questions = parse_labels(question, table["label"], records, path)
    frame = pd.DataFrame({"item_id": item_id, "annotator_id": annotator_id, "question": question, "label": codes})
    if "created_at" in table:
        frame["created_at"] = parse_timestamps(table["created_at"], records, path, "created_at")
    if "lead_time_s" in table:
        frame["lead_time_s"] = _number_column(table["lead_time_s"], records, path, "lead_time_s")
    if "batch" in table:
        frame["batch"] = _id_column(table["batch"], "batch", records, path, allow_missing=True)
    if "annotator_kind" in table:
        frame["annotator_kind"] = _kind_column(table["annotator_kind"], records, path)
    _add_gold(builder, table, frame, values, numeric_questions, gold_rows, records)
    if gold_rows is not None:
        frame, records = frame.loc[~gold_rows].reset_index(drop=True), records[~gold_rows]
        if "annotator_id" in frame:
            frame["annotator_id"] = frame["annotator_id"].cat.remove_unused_categories()
            _require_present(frame["annotator_id"], "annotator_id", records, path)
    builder.add_frame(frame, values, records)
    _add_items(builder, table, item_id, records)


def _id_column(
    column: pd.Series, field: str, records: np.ndarray, path: Path, allow_missing: Any = False
) -> pd.Series:
    """ids as a categorical of str (one string per distinct id, not per row); a blank id is a
    missing one."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        column = column.astype("category")
    categories = column.cat.categories
    if not (categories.dtype == "str" or categories.dtype == object and all(isinstance(c, str) for c in categories)):
        names = [_id_string(c) for c in categories]
        if len(set(names)) == len(names):
            column = column.cat.rename_categories(names)
        else:  # "1" and 1 both name item 1: one category
            merged, merged_code = np.unique(np.asarray(names, dtype=object), return_inverse=True)
            codes = column.cat.codes.to_numpy()
            column = pd.Series(pd.Categorical.from_codes(
                np.where(codes < 0, -1, merged_code[np.maximum(codes, 0)]), categories=pd.Index(merged, dtype=str)))
    categories = column.cat.categories
    blank = np.asarray(categories.str.strip() == "", dtype=bool)  # vectorized: a million ids, no loop
    if blank.any():
        column = column.cat.remove_categories(categories[blank])
    if allow_missing is False:
        _require_present(column, field, records, path)
    elif isinstance(allow_missing, np.ndarray):
        _require_present(column[~allow_missing], field, records[~allow_missing], path)
    return column.reset_index(drop=True)


def _require_present(column: pd.Series, field: str, records: np.ndarray, path: Path) -> None:
    missing = column.isna().to_numpy()
    if missing.any():
        raise InputError(f"{field} is empty", path=path, record=int(records[np.argmax(missing)]), field=field)


def _question_column(table: pd.DataFrame, options: LoadOptions, records: np.ndarray, path: Path) -> pd.Series:
    if "question" in table:
        return _id_column(table["question"], "question", records, path)
    name = options.question or DEFAULT_QUESTION
    return pd.Series(pd.Categorical.from_codes(np.zeros(len(table), dtype=np.int8), categories=[name]))


def _truth_column(column: pd.Series, field: str, records: np.ndarray, path: Path) -> np.ndarray:
    codes, uniques = _codes_and_uniques(column)
    truth = np.zeros(len(uniques), dtype=bool)
    for position, value in enumerate(uniques):
        word = str(value).strip().lower() if not isinstance(value, (bool, np.bool_)) else str(bool(value)).lower()
        if word in TRUE_WORDS:
            truth[position] = True
        elif word not in FALSE_WORDS:
            row = int(records[np.argmax(codes == position)])
            raise InputError(f"{value!r} is not true/false, yes/no or 1/0", path=path, record=row, field=field)
    return np.where(codes < 0, False, truth[np.maximum(codes, 0)])


def _kind_column(column: pd.Series, records: np.ndarray, path: Path) -> pd.Series:
    column = _id_column(column, "annotator_kind", records, path, allow_missing=True)
    unknown = [c for c in column.cat.categories if c not in ANNOTATOR_KINDS]
    if unknown:
        row = int(records[np.argmax((column == unknown[0]).to_numpy())])
        raise InputError(
            f"{unknown[0]!r} is not an annotator kind; expected one of {', '.join(ANNOTATOR_KINDS)}",
            path=path, record=row, field="annotator_kind",
        )
    return column


def _codes_and_uniques(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (-1: missing) and the distinct raw values, without an object per row."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy().astype(np.int64), np.asarray(column.cat.categories, dtype=object)
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


# ---------------------------------------------------------------------------------------------
# labels
# ---------------------------------------------------------------------------------------------


class _LabelError(ValueError):
    pass


def parse_labels(
    question: pd.Series,
    raw: pd.Series,
    records: np.ndarray,
    path: Path,
    field: str = "label",
    numeric_questions: set[str] | None = None,
) -> tuple[np.ndarray, np.ndarray, set[str]]:
    """Per row, a code into the distinct parsed labels; each distinct (question, raw value)
    pair is parsed once.

    A question is numeric when every present label of it is a number (or, when
    ``numeric_questions`` is given, when it is in that set). Returns ``(codes, values,
    numeric_questions)``; a missing label has a ``None`` value.
    """
    raw_codes, raw_values = _codes_and_uniques(raw)
    parsed = []
    for position, value in enumerate(raw_values):
        try:
            parsed.append(_parse_raw(value))
        except _LabelError as err:
            row = int(records[np.argmax(raw_codes == position)])
            raise InputError(str(err), path=path, record=row, field=field) from None
    width = len(raw_values) + 1
    pairs = question.cat.codes.to_numpy().astype(np.int64) * width + (raw_codes + 1)
    pair_codes, pair_uniques = pd.factorize(pairs)
    pair_question, pair_raw = pair_uniques // width, pair_uniques % width - 1
    names = question.cat.categories
    numeric = set(numeric_questions) if numeric_questions is not None else _numeric_questions(names, pair_question, pair_raw, parsed)
    values = np.empty(len(pair_uniques), dtype=object)
    for position, (q_code, r_code) in enumerate(zip(pair_question, pair_raw, strict=True)):
        if r_code < 0:
            continue
        label, number = parsed[r_code]
        if str(names[q_code]) not in numeric:
            values[position] = label
        elif number is not None:
            values[position] = number
        else:
            raise InputError(
                f"{label!r} is not a number, but question {str(names[q_code])!r} holds numbers",
                path=path, record=int(records[np.argmax(pair_codes == position)]), field=field,
            )
    _resolve_empty_lists(values, pair_question)
    _promote_single_categories(values, pair_question)
    _check_one_shape(values, pair_question, pair_codes, names, records, path, field, numeric)
    return pair_codes.astype(np.int64), values, numeric


def _parse_raw(value: Any) -> tuple[Any, float | None]:
    """(the label as text / frozenset / spans, its number when it is one)."""
    if isinstance(value, (bool, np.bool_)):
        return ("true" if value else "false"), None
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        return (None, None) if math.isnan(number) else (_id_string(value), number)
    if isinstance(value, (frozenset, tuple)):
        return value, None
    if isinstance(value, (list, np.ndarray)):
        return _from_list(_to_builtin(value)), None
    text = str(value)
    if text.lstrip().startswith("["):
        try:
            items = json.loads(text)
        except ValueError as err:
            raise _LabelError(f"{_short(text)} starts like a JSON list but is not valid JSON ({err.msg})") from None
        if not isinstance(items, list):
            raise _LabelError(f"{_short(text)} is not a JSON list")
        return _from_list(items), None
    if _NUMBER.match(text):
        return text, float(text)
    return text, None


def _from_list(items: list) -> Any:
    if not items:
        return _EMPTY_LIST
    if all(isinstance(v, (list, dict)) for v in items):
        return tuple(sorted(_span(v) for v in items))
    if all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in items):
        return frozenset(_id_string(v) for v in items)
    raise _LabelError(f"{_short(json.dumps(items))} mixes categories and spans; expected a list of categories or of [start, end, label]")


def _span(value: list | dict) -> Span:
    if isinstance(value, dict):
        parts = (value.get("start", value.get("start_offset")), value.get("end", value.get("end_offset")), value.get("label"))
    else:
        parts = tuple(value) if len(value) == 3 else (None, None, None)
    start, end, label = parts
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer() for v in (start, end)):
        raise _LabelError(f"span {_short(json.dumps(value))} is not [start, end, label] with integer offsets")
    if label is None or str(label).strip() == "":
        raise _LabelError(f"span {_short(json.dumps(value))} has no label")
    return Span(int(start), int(end), str(label))


def _numeric_questions(names: pd.Index, pair_question: np.ndarray, pair_raw: np.ndarray, parsed: list) -> set[str]:
    numeric = set()
    for q_code in np.unique(pair_question):
        raw_codes = pair_raw[(pair_question == q_code) & (pair_raw >= 0)]
        if len(raw_codes) and all(parsed[r][1] is not None for r in raw_codes):
            numeric.add(str(names[q_code]))
    return numeric


def _resolve_empty_lists(values: np.ndarray, pair_question: np.ndarray) -> None:
    """``[]`` is an explicit "no spans" in a span question, and no answer anywhere else."""
    empty = np.fromiter((v is _EMPTY_LIST for v in values), dtype=bool, count=len(values))
    if not empty.any():
        return
    is_span = np.fromiter((isinstance(v, tuple) for v in values), dtype=bool, count=len(values))
    span_questions = set(pair_question[is_span].tolist())
    for position in np.flatnonzero(empty):
        values[position] = () if pair_question[position] in span_questions else frozenset()


def _promote_single_categories(values: np.ndarray, pair_question: np.ndarray) -> None:
    """In a multi-label question a lone category ``bug`` is the set ``{bug}``."""
    is_set = np.fromiter((isinstance(v, frozenset) and v for v in values), dtype=bool, count=len(values))
    if not is_set.any():
        return
    multilabel = set(pair_question[is_set].tolist())
    for position, value in enumerate(values):
        if isinstance(value, str) and pair_question[position] in multilabel:
            values[position] = frozenset({value})


def _shape(value: Any) -> str:
    if isinstance(value, tuple):
        return "spans"
    if isinstance(value, frozenset):
        return "a list of categories"
    return "a single category or number"


def _check_one_shape(
    values: np.ndarray, pair_question: np.ndarray, pair_codes: np.ndarray, names: pd.Index,
    records: np.ndarray, path: Path, field: str, numeric: set[str],
) -> None:
    """A question holds one shape of label: categories, lists of categories, or spans."""
    first_shape: dict[int, str] = {}
    for position, value in enumerate(values):
        if value is None or (isinstance(value, frozenset) and not value):
            continue
        shape = _shape(value)
        known = first_shape.setdefault(int(pair_question[position]), shape)
        if known != shape:
            row = int(records[np.argmax(pair_codes == position)])
            raise InputError(
                f"question {str(names[pair_question[position]])!r} mixes label shapes: this row holds {shape}, "
                f"earlier rows hold {known}",
                path=path, record=row, field=field,
            )


def _short(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


# ---------------------------------------------------------------------------------------------
# times, numbers, gold, items
# ---------------------------------------------------------------------------------------------


def parse_timestamps(column: pd.Series, records: np.ndarray, path: Path, field: str) -> pd.Series:
    """UTC timestamps from ISO 8601 text, MTurk's ``Mon Mar 02 08:11:00 PST 2026``, Unix seconds
    or datetimes (naive ones are taken as UTC); each distinct value is parsed once.

    >>> rows = np.array([2, 3])
    >>> parse_timestamps(pd.Series(["2026-03-02T11:00:00+02:00", None]), rows, Path("t.csv"), "created_at").tolist()
    [Timestamp('2026-03-02 09:00:00+0000', tz='UTC'), NaT]
    >>> parse_timestamps(pd.Series(["1772442000", "1772442060"]), rows, Path("t.csv"), "created_at").tolist()
    [Timestamp('2026-03-02 09:00:00+0000', tz='UTC'), Timestamp('2026-03-02 09:01:00+0000', tz='UTC')]
    """
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        column = column.reset_index(drop=True)
        return column.dt.tz_localize("UTC") if column.dt.tz is None else column.dt.tz_convert("UTC")
    if pd.api.types.is_bool_dtype(column.dtype):
        raise InputError("true/false is not a timestamp (expected ISO 8601 or Unix seconds)",
                         path=path, record=int(records[0]), field=field)
    if pd.api.types.is_numeric_dtype(column.dtype):
        return _unix_seconds(column.to_numpy(dtype=float), records, path, field)
    codes, uniques = _codes_and_uniques(column)
    text = pd.Series(uniques, dtype=object)
    if pd.api.types.infer_dtype(text, skipna=False) != "string":
        text = text.map(str)
    if len(text) and _NUMBER.match(text.iloc[0]):  # Unix seconds written as text (CSV)
        numbers = pd.to_numeric(text, errors="coerce")
        if numbers.notna().all():
            seconds = np.append(numbers.to_numpy(dtype=float), np.nan)
            return _unix_seconds(seconds[np.where(codes < 0, len(numbers), codes)], records, path, field)
    parsed = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
    if parsed.isna().any():
        parsed = parsed.combine_first(parse_mturk_times(text))
    failed = parsed.isna().to_numpy()
    if failed.any():
        position = int(np.flatnonzero(failed)[0])
        row = int(records[np.argmax(codes == position)])
        raise InputError(
            f"{text.iloc[position]!r} is not a timestamp (expected ISO 8601, e.g. 2026-03-02T09:14:05Z)",
            path=path, record=row, field=field,
        )
    # naive UTC datetime64 values, not an object array of Timestamps: one vectorized take per row
    naive = parsed.dt.tz_convert(None).to_numpy()
    with_missing = np.append(naive, np.array(["NaT"], dtype=naive.dtype))
    return pd.Series(with_missing[np.where(codes < 0, len(parsed), codes)]).dt.tz_localize("UTC")


def _unix_seconds(seconds: np.ndarray, records: np.ndarray, path: Path, field: str) -> pd.Series:
    """UTC timestamps from Unix seconds (NaN: unknown); a value out of range is an error."""
    out_of_range = np.abs(np.nan_to_num(seconds)) > MAX_UNIX_SECONDS
    if out_of_range.any():
        position = int(np.argmax(out_of_range))
        raise InputError(
            f"{seconds[position]:.0f} is too large for Unix seconds (milliseconds? divide by 1000, "
            "or write ISO 8601, e.g. 2026-03-02T09:14:05Z)",
            path=path, record=int(records[position]), field=field,
        )
    return pd.Series(pd.to_datetime(seconds, unit="s", utc=True))


def parse_mturk_times(text: pd.Series) -> pd.Series:
    """MTurk's ``Mon Mar 02 08:11:00 PST 2026`` as UTC; NaT where the text or zone is unknown.

    >>> parse_mturk_times(pd.Series(["Mon Mar 02 08:11:00 PST 2026"])).iloc[0]
    Timestamp('2026-03-02 16:11:00+0000', tz='UTC')
    """
    parts = text.astype(str).str.extract(_MTURK_TIME)
    local = pd.to_datetime(parts[0] + " " + parts[2], format="%b %d %H:%M:%S %Y", errors="coerce")
    offset_h = parts[1].str.upper().map(ZONE_OFFSETS_H).astype(float)
    utc = local - pd.to_timedelta(offset_h, unit="h")
    return utc.dt.tz_localize("UTC")


def _number_column(column: pd.Series, records: np.ndarray, path: Path, field: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(column.dtype):
        raise InputError("true/false is not a number of seconds", path=path, record=int(records[0]), field=field)
    if pd.api.types.is_numeric_dtype(column.dtype):
        return column.astype(float).reset_index(drop=True)
    codes, uniques = _codes_and_uniques(column)
    numbers = pd.to_numeric(pd.Series(uniques, dtype=object), errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(numbers)
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        row = int(records[np.argmax(codes == position)])
        raise InputError(f"{uniques[position]!r} is not a number of seconds", path=path, record=row, field=field)
    return pd.Series(np.append(numbers, np.nan)[np.where(codes < 0, len(numbers), codes)])


def _add_gold(
    builder: AnnotationSetBuilder, table: pd.DataFrame, frame: pd.DataFrame, values: np.ndarray,
    numeric: set[str], gold_rows: np.ndarray | None, records: np.ndarray,
) -> None:
    """Gold from ``is_gold`` rows and from a ``gold`` column; one answer per item and question."""
    parts = []
    if gold_rows is not None and gold_rows.any():
        parts.append(_gold_part(frame, frame["label"].to_numpy(), values, gold_rows, records))
    if "gold" in table:
        codes, gold_values, _ = parse_labels(frame["question"], table["gold"], records, builder.path, "gold", numeric)
        present = np.fromiter((not is_missing_label(v) for v in gold_values), dtype=bool, count=len(gold_values))
        parts.append(_gold_part(frame, codes, gold_values, present[codes], records))
    if not parts:
        return
    gold = pd.concat(parts, ignore_index=True).drop_duplicates(["item_id", "question", "label"])
    clash = gold.duplicated(["item_id", "question"])
    if clash.any():
        row = gold.loc[clash].iloc[0]
        raise InputError(
            f"item {row['item_id']} has two different gold labels for question {row['question']!r}",
            path=builder.path, record=int(row["record"]), field="gold",
        )
    builder.add_gold_frame(gold)


def _gold_part(frame: pd.DataFrame, codes: np.ndarray, values: np.ndarray, rows: np.ndarray, records: np.ndarray) -> pd.DataFrame:
    known = pd.DataFrame({
        "item": frame["item_id"].cat.codes.to_numpy()[rows],
        "question": frame["question"].cat.codes.to_numpy()[rows],
        "code": codes[rows],
        "record": records[rows],
    }).drop_duplicates(["item", "question", "code"])
    return pd.DataFrame({
        "item_id": np.asarray(frame["item_id"].cat.categories, dtype=object)[known["item"].to_numpy()],
        "question": np.asarray(frame["question"].cat.categories, dtype=object)[known["question"].to_numpy()],
        "label": values[known["code"].to_numpy()],
        "record": known["record"].to_numpy(),
    })


def _add_items(builder: AnnotationSetBuilder, table: pd.DataFrame, item_id: pd.Series, records: np.ndarray) -> None:
    """``text`` and the columns that hold one value per item go to the items table."""
    item_codes = item_id.cat.codes.to_numpy()
    first_rows = pd.Series(item_codes).drop_duplicates().index.to_numpy()
    items = {"item_id": np.asarray(item_id.cat.categories, dtype=object)[item_codes[first_rows]]}
    ignored = []
    for column in table.columns:
        if column in CANONICAL and column != "text":
            continue
        codes, uniques = _codes_and_uniques(table[column])
        pairs = pd.DataFrame({"item": item_codes, "value": codes}).drop_duplicates()
        if len(pairs) != len(first_rows):
            if column == "text":
                clash = pairs.loc[pairs.duplicated("item")].iloc[0]
                row = int(records[np.argmax((item_codes == clash["item"]) & (codes == clash["value"]))])
                raise InputError(
                    f"item {item_id.cat.categories[clash['item']]} has two different texts",
                    path=builder.path, record=row, field="text",
                )
            ignored.append(column)
            continue
        values = np.append(uniques, None)[np.where(codes < 0, len(uniques), codes)]
        items[column] = values[first_rows]
    if ignored:
        builder.note(f"columns ignored (neither canonical nor one value per item): {', '.join(ignored)}")
    if len(items) > 1:
        builder.add_items(pd.DataFrame(items))


def _first_sentence(err: Exception) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= 200 else text[:197] + "..."
