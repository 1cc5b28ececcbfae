"""Errors the suite raises at its boundary: bad input files and bad configuration.

Every message names the file, the record (line number, task id, row) and the field, and says what
would be valid. The CLI turns these into exit status 2 with no traceback.
"""

from __future__ import annotations

from pathlib import Path

RECORD_KINDS = ("line", "task", "row", "annotation", "example", "record", "item", "assignment")
"""Words a record id may start with to say what kind of record it is."""


class AQAError(Exception):
    """Base class of the suite's own errors."""


class InputError(AQAError):
    """An export could not be read as annotations.

    ``str(err)`` reads ``FILE, record R, field F: problem``, leaving out the parts that are unknown.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        record: str | int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = str(path) if path is not None else None
        self.record = record
        self.field = field
        self.problem = message
        super().__init__(self._compose())

    def _compose(self) -> str:
        where = []
        if self.path:
            where.append(self.path)
        if self.record is not None:
            # a record that names its own kind ("line 3", "task 501", "row 7") reads as it is
            record = str(self.record)
            where.append(record if record.split(" ", 1)[0] in RECORD_KINDS else f"record {record}")
        if self.field:
            where.append(f"field '{self.field}'")
        return (", ".join(where) + ": " if where else "") + self.problem


class UnknownFormatError(InputError):
    """The export's format could not be detected, or the named format does not exist."""


class ConfigError(AQAError):
    """The configuration (``[tool.aqa]`` or ``aqa.toml``) or a command-line option is invalid."""
