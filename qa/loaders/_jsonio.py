"""Reading JSON and JSON Lines exports with errors that name the file, the line and the column.

Loaders never let a ``json.JSONDecodeError`` or ``UnicodeDecodeError`` escape: a truncated file, a
stray byte or a line of garbage becomes one :class:`~qa.errors.InputError`.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qa.errors import InputError

# How much of a bad line to quote in an error message.
QUOTE_CHARS = 60


def read_text(path: Path) -> str:
    """The whole file as UTF-8 text (a BOM is dropped)."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", path=path) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise not_utf8_error(path, record_prefix="line ") from None


def read_json(path: Path) -> Any:
    """One JSON document.

    >>> import tempfile, pathlib
    >>> bad = pathlib.Path(tempfile.mkdtemp()) / "cut.json"
    >>> _ = bad.write_text('[{"id": 1}, {"id": ')
    >>> try:
    ...     read_json(bad)
    ... except InputError as err:
    ...     print(err.problem)
    invalid JSON at line 1, column 20: Expecting value (the file ends early: is it truncated?)
    """
    text = read_text(path)
    if not text.strip():
        raise InputError("the file is empty", path=path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        hint = " (the file ends early: is it truncated?)" if err.pos >= len(text.rstrip()) else ""
        raise InputError(f"invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}{hint}", path=path) from None
    except RecursionError:
        raise InputError("JSON nested too deeply to be an annotation export", path=path) from None


def iter_json_lines(path: Path) -> Iterator[tuple[int, dict]]:
    """``(line_number, object)`` for every non-blank line of a JSON Lines file.

    Every line must hold one JSON object; the first that does not raises an ``InputError`` naming
    its line number.
    """
    try:
        handle = open(path, encoding="utf-8-sig")
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", path=path) from None
    with handle:
        line_number = 0
        try:
            for line_number, line in enumerate(handle, start=1):  # noqa: B007 (used after the loop)
                if not line.strip():
                    continue
                yield line_number, _parse_line(line, path, line_number)
        except UnicodeDecodeError:
            raise not_utf8_error(path, record_prefix="line ") from None


def _parse_line(line: str, path: Path, line_number: int) -> dict:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as err:
        quoted = line.strip()[:QUOTE_CHARS]
        raise InputError(
            f"invalid JSON at column {err.colno}: {err.msg} (the line starts {quoted!r})",
            path=path,
            record=f"line {line_number}",
        ) from None
    except RecursionError:
        raise InputError("JSON nested too deeply", path=path, record=f"line {line_number}") from None
    if not isinstance(value, dict):
        raise InputError(
            f"expected one JSON object per line, found {type(value).__name__}", path=path, record=f"line {line_number}"
        )
    return value


def export_files(path: Path, suffixes: tuple[str, ...] = (".jsonl", ".json", ".ndjson")) -> list[Path]:
    """``path`` itself, or the export files of a directory (sorted, hidden files left out)."""
    if not path.is_dir():
        return [path]
    files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in suffixes)
    if not files:
        raise InputError(f"the directory holds no {'/'.join(suffixes)} files", path=path)
    return files


def not_utf8_error(path: Path, record_prefix: str = "") -> InputError:
    """The error for a file that is not UTF-8, naming the line of its first bad byte."""
    line, offset, byte = _first_invalid_utf8(path)
    return InputError(
        f"not UTF-8 text (byte 0x{byte:02x} at offset {offset}); save or export the file as UTF-8",
        path=path, record=f"{record_prefix}{line}" if record_prefix else line,
    )


def _first_invalid_utf8(path: Path) -> tuple[int, int, int]:
    """(line number, byte offset, byte) of the first byte that is not UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line, offset = 1, 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as err:
                good = max(0, min(err.start, len(chunk)))
                return line + chunk[:good].count(b"\n"), offset + err.start, chunk[min(err.start, len(chunk) - 1)]
            line += chunk.count(b"\n")
            offset += len(chunk)
    return line, offset, 0
