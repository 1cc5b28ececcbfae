"""Arguments every command that reads an export shares: the path, ``--format``, ``--map``,
``--question`` and ``--normalize-labels``; and loading from them."""

from __future__ import annotations

import argparse

from qa.errors import ConfigError
from qa.load import load
from qa.schema import AnnotationSet

MAP_KEYS = ("item_id", "annotator_id", "label", "question", "created_at", "lead_time_s", "batch",
            "annotator_kind", "text", "gold", "is_gold")
MAP_ALIASES = {"item": "item_id", "annotator": "annotator_id", "kind": "annotator_kind"}


def add_input_arguments(parser: argparse.ArgumentParser, *, metavar: str = "PATH") -> None:
    """``path`` (positional) and the options that say how to read it."""
    parser.add_argument("path", metavar=metavar, help="the export: a file, or a directory of per-annotator files")
    parser.add_argument("--format", help="force the export format (detected from the content otherwise)")
    parser.add_argument(
        "--map", metavar="CANONICAL=COLUMN,...",
        help="long tables: the export's column names, e.g. item=task_id,annotator=worker",
    )
    parser.add_argument("--question", help="the question name, for exports that hold one unnamed question")
    parser.add_argument(
        "--normalize-labels", action="store_true", help="case-fold and strip category labels (noted in the report)"
    )


def parse_column_map(text: str | None) -> dict[str, str]:
    """``item=task_id,annotator=worker`` as ``{"item_id": "task_id", "annotator_id": "worker"}``.

    >>> parse_column_map("item=task_id, annotator=worker")
    {'item_id': 'task_id', 'annotator_id': 'worker'}
    >>> parse_column_map("item")
    Traceback (most recent call last):
    ...
    qa.errors.ConfigError: --map: 'item' is not CANONICAL=COLUMN (e.g. item=task_id,annotator=worker)
    """
    if not text:
        return {}
    mapping: dict[str, str] = {}
    for part in text.split(","):
        key, sep, column = (p.strip() for p in part.partition("="))
        if not sep or not key or not column:
            raise ConfigError(f"--map: {part.strip()!r} is not CANONICAL=COLUMN (e.g. item=task_id,annotator=worker)")
        canonical = MAP_ALIASES.get(key, key)
        if canonical not in MAP_KEYS:
            known = ", ".join(sorted(set(MAP_KEYS) | set(MAP_ALIASES)))
            raise ConfigError(f"--map: {key!r} is not a canonical column; expected one of {known}")
        if canonical in mapping:
            raise ConfigError(f"--map: {key!r} is mapped twice")
        mapping[canonical] = column
    return mapping


def load_from_args(args: argparse.Namespace) -> AnnotationSet:
    """Load ``args.path`` as the input arguments say."""
    return load(
        args.path,
        format=getattr(args, "format", None),
        column_map=parse_column_map(getattr(args, "map", None)),
        normalize_labels=bool(getattr(args, "normalize_labels", False)),
        question=getattr(args, "question", None),
    )
