"""``qa.load``: any supported export to one validated :class:`~qa.schema.AnnotationSet`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.errors import InputError, UnknownFormatError
from qa.loaders import format_modules
from qa.loaders._build import LoadOptions
from qa.schema import AnnotationSet

if TYPE_CHECKING:
    from qa.engines import ReducedAnnotationSet

SNIFF_BYTES = 64 * 1024
# In a directory, files with these endings are the export; a README or a checksum file is not.
EXPORT_SUFFIXES = (".json", ".jsonl", ".ndjson", ".csv", ".tsv", ".parquet")


def load(
    path: str | Path,
    format: str | None = None,
    *,
    column_map: dict[str, str] | None = None,
    normalize_labels: bool = False,
    question: str | None = None,
    engine: str = "pandas",
    **engine_options: Any,
) -> AnnotationSet | ReducedAnnotationSet:
    """Load an annotation export.

    Parameters
    ----------
    path : a file, or a directory of per-annotator files (Prodigy, Doccano).
    format : force a format (see ``qa.available_formats()``); detected from content when None.
    column_map : canonical column -> the export's column, for long tables
        (``{"item_id": "task_id", "annotator_id": "worker"}``).
    normalize_labels : case-fold and strip category labels; off by default, noted when on.
    question : name of the question for exports that hold one unnamed question.
    engine : ``"pandas"`` (default: load in memory, every metric), ``"duckdb"`` or ``"spark"``
        (a long table reduced where it lives: returns a lazy
        :class:`~qa.engines.ReducedAnnotationSet` with alpha, the kappa family, class balance
        and drift; see docs/engines.md), or ``"auto"`` (DuckDB for a file too large to load).
    engine_options : engine settings (DuckDB ``memory_limit``, ``threads``, ``temp_directory``;
        Spark ``spark``).

    Raises
    ------
    InputError : the file is missing, unreadable, or not valid for its format; the message names
        the file, the record and the field.
    """
    if engine != "pandas":
        reduced = _load_with_engine(path, format, engine, column_map, normalize_labels, question, engine_options)
        if reduced is not None:
            return reduced
    source = Path(path)
    if not source.exists():
        raise InputError("no such file or directory", path=source)
    modules = format_modules()
    options = LoadOptions(normalize_labels=normalize_labels, column_map=dict(column_map or {}), question=question)
    if format is None:
        format = _detect_or_mapped_long(source, options)
    module = modules.get(_canonical_format_name(format))
    if module is None:
        raise UnknownFormatError(
            f"unknown format {format!r}; the formats are {', '.join(sorted(modules))}", path=source
        )
    return module.load(source, options)


def _load_with_engine(
    path: Any, format: str | None, engine: str, column_map: dict[str, str] | None,
    normalize_labels: bool, question: str | None, options: dict[str, Any],
) -> ReducedAnnotationSet | None:
    """The engine's reduction of a long table, or None when ``auto`` chose to load in memory."""
    from qa.engines import choose_engine, open_engine

    is_path = isinstance(path, (str, Path))
    chosen = choose_engine(path, engine) if is_path and Path(path).exists() else engine
    if chosen == "auto":
        chosen = "duckdb"
    if chosen == "pandas":
        return None
    if format is not None and _canonical_format_name(format) != "long":
        raise InputError(f"the {chosen} engine reads long tables (Parquet, CSV), not format {format!r}", path=path)
    if normalize_labels:
        raise InputError(f"normalize_labels is not supported by the {chosen} engine; normalise the labels first", path=path)
    if is_path and chosen == "duckdb" and not Path(path).exists() and not any(c in str(path) for c in "*?["):
        raise InputError("no such file or directory", path=path)
    return open_engine(path, chosen, column_map=column_map, question=question, **options)


def available_formats() -> list[str]:
    return sorted(format_modules())


def detect_format(path: Path) -> str:
    """The format of ``path``, read from its content."""
    head = read_head(path)
    if not head.strip():
        raise InputError("the file is empty", path=path)
    for name, module in format_modules().items():
        try:
            if module.sniff(path, head):
                return name
        except RecursionError:  # a JSON head nested beyond Python's stack: nobody's export
            continue
    broken = _broken_json(head) if path.is_file() and len(head) < SNIFF_BYTES else None
    if broken is not None:  # a whole small file that looks like JSON but is not: say where
        raise InputError(f"invalid JSON ({broken[1]}), so its format cannot be detected", path=path, record=broken[0])
    raise UnknownFormatError(
        "could not tell which tool wrote this export; pass --format with one of "
        + ", ".join(sorted(format_modules())),
        path=path,
    )


def _broken_json(text: str) -> tuple[str, str] | None:
    """``(line, problem)`` when ``text`` starts like JSON but neither parses as one JSON document
    nor as JSON lines; None otherwise (including text that does not look like JSON)."""
    if not text.lstrip().startswith(("{", "[")):
        return None
    try:
        json.loads(text)
        return None
    except ValueError as err:
        document_error = err
    except RecursionError:
        return None
    if text.lstrip().startswith("{"):  # maybe JSON lines: name the first line that is not JSON
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                json.loads(line)
            except ValueError as err:
                return f"line {number}", f"{err.msg} at column {err.colno}"
            except RecursionError:
                return None
        return None
    return f"line {document_error.lineno}", f"{document_error.msg} at column {document_error.colno}"


def _detect_or_mapped_long(path: Path, options: LoadOptions) -> str:
    """A column map only makes sense for a long table: with one, an undetected file is read as one."""
    try:
        return detect_format(path)
    except UnknownFormatError:
        if options.column_map and "long" in format_modules():
            return "long"
        raise


def read_head(path: Path) -> str:
    """The first 64 KiB of a file (or of the first export file in a directory) as text, without
    a UTF-8 byte-order mark."""
    target = path
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        if not files:
            raise InputError("the directory holds no export files", path=path)
        exports = [p for p in files if p.suffix.lower() in EXPORT_SUFFIXES]
        target = (exports or files)[0]
    try:
        with open(target, "rb") as handle:
            raw = handle.read(SNIFF_BYTES)
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", path=target) from None
    if raw[:4] == b"PAR1":
        return "PAR1"
    return raw.decode("utf-8", errors="replace").removeprefix("\ufeff")


def _canonical_format_name(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")
