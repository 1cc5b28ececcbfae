"""The adjudication store: QA leads' final decisions on disputed items, kept as an audit trail.

Decisions live in a SQLite database beside the export (``<export>.adjudications.sqlite``). Every
decision is a new row (who, when, what, the previous final label, a note); nothing is updated or
deleted, so the history of each item is complete. The current decision of an item and question
is its latest row. Writes run in ``BEGIN IMMEDIATE`` transactions on a WAL-mode database, so two
browser sessions adjudicating at once lose nothing: each decision records the final label it
replaced, read inside the same transaction.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from qa.errors import InputError
from qa.schema import Span
from qa.writers import json_label

SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    decision_id   INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id       TEXT NOT NULL,
    question      TEXT NOT NULL,
    final_label   TEXT NOT NULL,
    previous_label TEXT,
    decided_by    TEXT NOT NULL,
    decided_at    TEXT NOT NULL,
    note          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS decisions_item ON decisions (item_id, question, decision_id);
"""
DECISION_COLUMNS = [
    "decision_id",
    "item_id",
    "question",
    "final_label",
    "previous_label",
    "decided_by",
    "decided_at",
    "note",
]


def store_path_for(export_path: str | Path) -> Path:
    """Where the decisions on ``export_path`` are kept: a file beside it."""
    export_path = Path(export_path)
    return export_path.with_name(export_path.name + ".adjudications.sqlite")


#: How an empty span answer ("no entities") is stored: ``[]`` alone would read back as an empty
#: multi-label set, a different type (and shown as ``{}`` instead of ``[]``).
NO_SPANS = {"spans": []}


def encode_label(label: Any) -> str:
    """A label as JSON text: categories and numbers as themselves, multi-label sets as sorted
    lists, spans as lists of ``[start, end, label]`` (no spans: ``{"spans": []}``).

    >>> encode_label(3), encode_label(frozenset({"b", "a"})), encode_label(())
    ('3', '["a", "b"]', '{"spans": []}')
    """
    if isinstance(label, tuple) and not label:
        return json.dumps(NO_SPANS)
    return json.dumps(json_label(label), ensure_ascii=False)


def decode_label(text: str | None) -> Any:
    """The inverse of :func:`encode_label`: lists of strings become frozensets, lists of
    ``[start, end, label]`` become tuples of :class:`~qa.schema.Span`, numbers stay numbers.

    >>> decode_label("3"), decode_label('["a"]'), decode_label('{"spans": []}')
    (3, frozenset({'a'}), ())
    """
    if not isinstance(text, str):
        return None
    value = json.loads(text)
    if value == NO_SPANS:
        return ()
    if isinstance(value, list):
        if value and all(isinstance(v, list) and len(v) == 3 for v in value):
            return tuple(Span(int(s), int(e), str(lab)) for s, e, lab in value)
        return frozenset(value)
    return value


@dataclass(frozen=True)
class Decision:
    """One adjudication: the final label of an item's question, who decided it and when."""

    decision_id: int
    item_id: str
    question: str
    final_label: Any
    previous_label: Any
    decided_by: str
    decided_at: str
    note: str


class AdjudicationStore:
    """Append-only SQLite store of adjudication decisions.

    >>> import tempfile, pathlib
    >>> store = AdjudicationStore(pathlib.Path(tempfile.mkdtemp()) / "x.sqlite")
    >>> store.decide("t1", "intent", "billing", decided_by="qa-lead").previous_label is None
    True
    >>> store.decide("t1", "intent", "refund", decided_by="qa-lead").previous_label
    'billing'
    >>> store.current()["final_label"].tolist()
    ['refund']
    >>> len(store.history())
    2
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            with self._connect() as connection:
                connection.execute("PRAGMA journal_mode=WAL")
                connection.executescript(SCHEMA)
        except sqlite3.DatabaseError as err:
            raise InputError(f"not a usable adjudication database: {err}", path=self.path) from None

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        connection = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        try:
            yield connection
        finally:
            connection.close()

    def decide(
        self, item_id: str, question: str, final_label: Any, *, decided_by: str, note: str = ""
    ) -> Decision:
        """Record a decision; returns it with the final label it replaced (None when first)."""
        if not str(decided_by).strip():
            raise ValueError("decided_by must name the person adjudicating")
        encoded = encode_label(final_label)
        decided_at = datetime.now(timezone.utc).isoformat(timespec="microseconds")
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                previous = connection.execute(
                    "SELECT final_label FROM decisions WHERE item_id=? AND question=? "
                    "ORDER BY decision_id DESC LIMIT 1",
                    (str(item_id), str(question)),
                ).fetchone()
                cursor = connection.execute(
                    "INSERT INTO decisions (item_id, question, final_label, previous_label, decided_by, decided_at, note) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (str(item_id), str(question), encoded, previous[0] if previous else None,
                     str(decided_by), decided_at, str(note)),
                )
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        return Decision(
            decision_id=int(cursor.lastrowid),
            item_id=str(item_id),
            question=str(question),
            final_label=decode_label(encoded),
            previous_label=decode_label(previous[0]) if previous else None,
            decided_by=str(decided_by),
            decided_at=decided_at,
            note=str(note),
        )

    def history(self, item_id: str | None = None, question: str | None = None) -> pd.DataFrame:
        """Every decision (the audit trail), oldest first; columns ``DECISION_COLUMNS``."""
        query = f"SELECT {', '.join(DECISION_COLUMNS)} FROM decisions"
        clauses, params = [], []
        if item_id is not None:
            clauses.append("item_id = ?")
            params.append(str(item_id))
        if question is not None:
            clauses.append("question = ?")
            params.append(str(question))
        if clauses:
            query += " WHERE " + " AND ".join(clauses)
        query += " ORDER BY decision_id"
        with self._connect() as connection:
            rows = connection.execute(query, params).fetchall()
        frame = pd.DataFrame(rows, columns=DECISION_COLUMNS)
        for column, position in (("final_label", 3), ("previous_label", 4)):
            frame[column] = pd.Series([decode_label(row[position]) for row in rows], index=frame.index, dtype=object)
        return frame

    def current(self, question: str | None = None) -> pd.DataFrame:
        """The latest decision per item and question."""
        history = self.history(question=question)
        if history.empty:
            return history
        latest = history.groupby(["item_id", "question"], sort=False)["decision_id"].transform("max")
        return history[history["decision_id"] == latest].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# The adjudicated set, ready for training
# ---------------------------------------------------------------------------------------------

#: Where a training label comes from, in order of precedence: a QA lead's decision overrides
#: gold (an adjudication on a gold item is a deliberate correction of the gold), gold overrides
#: the annotators' consensus.
LABEL_SOURCES = ("adjudicated", "gold", "consensus")
TRAINING_COLUMNS = ["item_id", "question", "text", "label", "source", "confidence", "decided_by", "note"]


def training_set(
    items: pd.DataFrame,
    consensus: pd.DataFrame,
    gold: pd.DataFrame,
    decisions: pd.DataFrame,
    question: str,
    *,
    min_confidence: float = 0.0,
) -> pd.DataFrame:
    """One final label per item of ``question``, with where it came from.

    Precedence (``LABEL_SOURCES``): the latest adjudication, else the gold label, else the
    consensus when it is not a tie and its confidence is at least ``min_confidence``. Items with
    none of these (a tied or low-confidence consensus nobody adjudicated) are left out: they are
    not training-ready.

    Parameters
    ----------
    items : ``item_id`` and (optionally) ``text``.
    consensus : ``item_id``, ``label``, ``confidence`` (e.g. ``metrics.consensus``, without gold).
    gold : ``item_id``, ``label`` (of this question).
    decisions : :meth:`AdjudicationStore.current` (any question; filtered here).
    question : the question the labels answer.

    Returns
    -------
    DataFrame
        ``TRAINING_COLUMNS``: ``confidence`` is the consensus confidence for ``consensus`` rows,
        1.0 for ``gold`` and ``adjudicated`` rows (a person decided); ``decided_by`` and ``note``
        are empty except for adjudications.

    Examples
    --------
    >>> items = pd.DataFrame({"item_id": ["1", "2", "3", "4"], "text": ["a", "b", "c", "d"]})
    >>> cons = pd.DataFrame({"item_id": ["1", "2", "3", "4"], "label": ["x", None, "y", "y"],
    ...                      "confidence": [0.67, 0.5, 1.0, 0.4]})
    >>> gold = pd.DataFrame({"item_id": ["3"], "label": ["z"]})
    >>> decisions = pd.DataFrame({"item_id": ["2"], "question": ["q"], "final_label": ["x"],
    ...                           "decided_by": ["ana"], "note": [""]})
    >>> training_set(items, cons, gold, decisions, "q", min_confidence=0.5)[["item_id", "label", "source"]].values.tolist()
    [['1', 'x', 'consensus'], ['2', 'x', 'adjudicated'], ['3', 'z', 'gold']]
    """
    texts = items.assign(item_id=items["item_id"].astype(str)).set_index("item_id")
    text = texts["text"] if "text" in texts.columns else pd.Series(dtype=object)
    agreed = consensus[consensus["label"].notna()]  # a category tie has no label...
    if "is_tie" in agreed.columns:  # ... a rating tie has one (the lower median): a tie all the same
        agreed = agreed[~agreed["is_tie"].astype("boolean").fillna(False).to_numpy(dtype=bool)]
    agreed = agreed[agreed["confidence"].fillna(0.0) >= min_confidence]
    chosen = pd.DataFrame({
        "item_id": agreed["item_id"].astype(str).to_numpy(),
        "label": agreed["label"].to_numpy(dtype=object),
        "source": "consensus",
        "confidence": agreed["confidence"].to_numpy(dtype=float),
        "decided_by": "",
        "note": "",
    })
    gold_rows = pd.DataFrame({
        "item_id": gold["item_id"].astype(str).to_numpy(),
        "label": gold["label"].to_numpy(dtype=object),
        "source": "gold", "confidence": 1.0, "decided_by": "", "note": "",
    })
    mine = decisions[decisions["question"].astype(str) == str(question)] if not decisions.empty else decisions
    decided = pd.DataFrame({
        "item_id": mine["item_id"].astype(str).to_numpy() if len(mine) else [],
        "label": mine["final_label"].to_numpy(dtype=object) if len(mine) else [],
        "source": "adjudicated", "confidence": 1.0,
        "decided_by": mine["decided_by"].astype(str).to_numpy() if len(mine) else [],
        "note": mine["note"].astype(str).to_numpy() if len(mine) else [],
    })
    parts = [frame for frame in (decided, gold_rows, chosen) if len(frame)]
    if not parts:
        return pd.DataFrame(columns=TRAINING_COLUMNS)
    stacked = pd.concat(parts, ignore_index=True)
    stacked = stacked.drop_duplicates("item_id", keep="first")  # decided > gold > consensus
    stacked["question"] = str(question)
    stacked["text"] = text.reindex(stacked["item_id"]).to_numpy(dtype=object)
    order = pd.Index(texts.index).get_indexer(stacked["item_id"])  # the items table's order
    stacked = stacked.assign(_order=order).sort_values(["_order", "item_id"], kind="stable")
    return stacked[TRAINING_COLUMNS].reset_index(drop=True)


def training_jsonl(frame: pd.DataFrame) -> bytes:
    """The training set as JSON Lines (UTF-8): one object per item, labels as in
    :func:`encode_label` (multi-label sets as sorted lists, spans as ``[start, end, label]``)."""
    records = frame.to_dict(orient="records")
    lines = []
    for record in records:
        record["label"] = json_label(record["label"])
        record["confidence"] = _finite_or_none(record["confidence"])
        record["text"] = None if _is_missing(record["text"]) else str(record["text"])
        lines.append(json.dumps(record, ensure_ascii=False))
    return ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8")


def training_csv(frame: pd.DataFrame) -> bytes:
    """The training set as CSV (UTF-8): category and number labels as themselves, multi-label
    sets and spans as their JSON text (:func:`encode_label`)."""
    labels = frame["label"].map(lambda v: v if isinstance(v, (str, int, float)) else encode_label(v))
    return frame.assign(label=labels).to_csv(index=False).encode("utf-8")


def _finite_or_none(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
