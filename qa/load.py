"""``qa.load``: any supported export to one validated :class:`~qa.schema.AnnotationSet`."""

from __future__ import annotations

from pathlib import Path

from qa.errors import InputError, UnknownFormatError
from qa.loaders import format_modules
from qa.loaders._build import LoadOptions
from qa.schema import AnnotationSet

SNIFF_BYTES = 64 * 1024


def load(
    path: str | Path,
    format: str | None = None,
    *,
    column_map: dict[str, str] | None = None,
    normalize_labels: bool = False,
    question: str | None = None,
) -> AnnotationSet:
    """Load an annotation export.

    Parameters
    ----------
    path : a file, or a directory of per-annotator files (Prodigy, Doccano).
    format : force a format (see ``qa.available_formats()``); detected from content when None.
    column_map : canonical column -> the export's column, for long tables
        (``{"item_id": "task_id", "annotator_id": "worker"}``).
    normalize_labels : case-fold and strip category labels; off by default, noted when on.
    question : name of the question for exports that hold one unnamed question.

    Raises
    ------
    InputError : the file is missing, unreadable, or not valid for its format; the message names
        the file, the record and the field.
    """
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


def available_formats() -> list[str]:
    return sorted(format_modules())


def detect_format(path: Path) -> str:
    """The format of ``path``, read from its content."""
    head = read_head(path)
    if not head.strip():
        raise InputError("the file is empty", path=path)
    for name, module in format_modules().items():
        if module.sniff(path, head):
            return name
    raise UnknownFormatError(
        "could not tell which tool wrote this export; pass --format with one of "
        + ", ".join(sorted(format_modules())),
        path=path,
    )


def _detect_or_mapped_long(path: Path, options: LoadOptions) -> str:
    """A column map only makes sense for a long table: with one, an undetected file is read as one."""
    try:
        return detect_format(path)
    except UnknownFormatError:
        if options.column_map and "long" in format_modules():
            return "long"
        raise


def read_head(path: Path) -> str:
    """The first 64 KiB of a file (or of the first regular file in a directory) as text."""
    target = path
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        if not files:
            raise InputError("the directory holds no export files", path=path)
        target = files[0]
    try:
        with open(target, "rb") as handle:
            raw = handle.read(SNIFF_BYTES)
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", path=target) from None
    if raw[:4] == b"PAR1":
        return "PAR1"
    return raw.decode("utf-8", errors="replace")


def _canonical_format_name(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")
