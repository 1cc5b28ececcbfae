"""Amazon Mechanical Turk batch results CSV (Requester > Manage > Batch results > Download CSV).

One row per assignment. What maps to what:

- item: the first ``Input.*`` column whose name has the word ``id`` (``Input.id``,
  ``Input.ticket_id``, ``Input.itemID``), else ``HITId``; ``Input.text`` becomes the item text and
  the other ``Input.*`` columns item metadata (without the ``Input.`` prefix);
- annotator: ``WorkerId``; ``SubmitTime`` (``Mon Mar 02 08:11:00 PST 2026``) -> ``created_at`` in
  UTC; ``WorkTimeInSeconds`` -> ``lead_time_s``;
- questions: every ``Answer.*`` column. ``Answer.intent.label`` (crowd-classifier) and
  ``Answer.intent`` are question ``intent``. Checkbox / radio columns holding true/false --
  ``Answer.intent.billing.on`` or ``Answer.intent.billing`` -- form question ``intent`` whose
  label is the option that is true; when some assignment ticks several options the question is
  multi-label (a ``frozenset``). A bare ``Answer.billing.on`` belongs to the question named by
  ``LoadOptions.question`` (default ``label``). Numbers stay numbers (ratings), as in long tables;
  a question whose answers average more than ``FREE_TEXT_CHARS`` characters is free text
  (kind ``text``, not an agreement question).
- skipped and counted: ``AssignmentStatus`` ``Rejected`` (reason ``rejected``); an answer left
  blank or with no option ticked (``empty``). ``Submitted`` and ``Approved`` are kept.

Records in messages are CSV row numbers counting the header as 1 (the line number when no field
holds a line break).
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from qa.errors import InputError
from qa.loaders._build import AnnotationSetBuilder, LoadOptions
from qa.loaders.long_table import CANONICAL, FALSE_WORDS, TRUE_WORDS, add_table, read_delimited_text
from qa.schema import DEFAULT_QUESTION, AnnotationSet

NAME = "mturk"

REQUIRED = ("HITId", "WorkerId")
ANSWER_PREFIX = "Answer."
INPUT_PREFIX = "Input."
REJECTED = "rejected"
# Answers longer than this on average are comments, not labels (a judgement call, documented).
FREE_TEXT_CHARS = 40
_ID_TOKEN = re.compile(r"(?:^|[_\-. ])id$|^id(?:[_\-. ]|$)|[a-z0-9](Id|ID)$")


def sniff(path: Path, head: str) -> bool:
    """A CSV header with ``HITId``, ``WorkerId`` and at least one ``Answer.*`` column."""
    line = next((line for line in head.lstrip("\ufeff").splitlines() if line.strip()), "")
    try:
        fields = {name.strip() for name in next(csv.reader([line]))}
    except (csv.Error, StopIteration):
        return False
    return set(REQUIRED) <= fields and any(name.startswith(ANSWER_PREFIX) for name in fields)


def load(path: Path, options: LoadOptions) -> AnnotationSet:
    """Load an MTurk batch results CSV (see the module docstring for the mapping).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> csv_text = ('"HITId","WorkerId","AssignmentStatus","Input.id","Answer.sentiment.label"\\n'
    ...             '"H1","W1","Approved","7","positive"\\n"H1","W2","Rejected","7","negative"\\n')
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "batch.csv"
    >>> _ = target.write_text(csv_text)
    >>> loaded = load(target, LoadOptions())
    >>> loaded.annotations[["item_id", "annotator_id", "question", "label"]].values.tolist()
    [['7', 'W1', 'sentiment', 'positive']]
    >>> loaded.load_report.skipped_counts
    {'rejected': 1}
    """
    if path.is_dir():
        raise InputError("an MTurk batch results file is one CSV file, not a directory", path=path)
    table = _read_csv(path)
    records = np.arange(2, len(table) + 2, dtype=np.int64)
    builder = AnnotationSetBuilder(path, NAME, options)
    builder.records_read = len(table)
    kept = _skip_rejected(builder, table, records)
    table, records = table.loc[kept].reset_index(drop=True), records[kept]
    long, long_records = _long_table(builder, table, records, options)
    if len(long):
        try:
            add_table(builder, long, long_records, count_records=False)
        except InputError as err:
            raise _in_mturk_terms(err, item_id_column(list(table.columns))) from None
    return builder.build()


def _in_mturk_terms(err: InputError, item_column: str) -> InputError:
    """The same error, naming the batch file's column rather than the canonical one."""
    column = {"item_id": item_column, "annotator_id": "WorkerId", "created_at": "SubmitTime",
              "lead_time_s": "WorkTimeInSeconds"}.get(err.field or "")
    if column is None:
        return err
    problem = err.problem.replace(f"{err.field} is empty", f"{column} is empty")
    return InputError(problem, path=err.path, record=err.record, field=column)


def _read_csv(path: Path) -> pd.DataFrame:
    table = read_delimited_text(path, ",").fillna("")
    for name in REQUIRED:
        if name not in table.columns:
            raise InputError(f"missing column {name!r}; an MTurk batch results CSV has HITId, WorkerId and Answer.* columns",
                             path=path, record=1, field=name)
    if not any(c.startswith(ANSWER_PREFIX) for c in table.columns):
        raise InputError("no Answer.* column: the batch holds no responses", path=path, record=1, field="Answer.*")
    if table.empty:
        raise InputError("the file holds a header but no assignments", path=path)
    return table


def _skip_rejected(builder: AnnotationSetBuilder, table: pd.DataFrame, records: np.ndarray) -> np.ndarray:
    if "AssignmentStatus" not in table:
        return np.ones(len(table), dtype=bool)
    rejected = (table["AssignmentStatus"].str.strip().str.lower() == REJECTED).to_numpy()
    assignment = table["AssignmentId"] if "AssignmentId" in table else pd.Series("?", index=table.index)
    for row in np.flatnonzero(rejected):
        builder.skip("rejected", int(records[row]), f"assignment {assignment.iloc[row]}, worker {table['WorkerId'].iloc[row]}")
    return ~rejected


def item_id_column(columns: list[str]) -> str:
    """The column that identifies the item: an ``Input.*`` column named with the word id, else
    ``HITId``.

    >>> item_id_column(["HITId", "Input.text", "Input.ticket_id"])
    'Input.ticket_id'
    >>> item_id_column(["HITId", "Input.hidden_note"])
    'HITId'
    """
    inputs = [c for c in columns if c.startswith(INPUT_PREFIX)]
    for name in inputs:
        if name[len(INPUT_PREFIX):].lower() == "id":
            return name
    for name in inputs:
        if _ID_TOKEN.search(name[len(INPUT_PREFIX):]):
            return name
    return "HITId"


def _long_table(
    builder: AnnotationSetBuilder, table: pd.DataFrame, records: np.ndarray, options: LoadOptions
) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per assignment x question, with canonical column names."""
    item_column = item_id_column(list(table.columns))
    base = pd.DataFrame({
        "item_id": table[item_column].str.strip(),
        "annotator_id": table["WorkerId"].str.strip(),
    })
    if "SubmitTime" in table:
        base["created_at"] = table["SubmitTime"].replace("", None)
    if "WorkTimeInSeconds" in table:
        base["lead_time_s"] = table["WorkTimeInSeconds"].replace("", None)
    for column in table.columns:
        if column.startswith(INPUT_PREFIX) and column != item_column:
            name = column[len(INPUT_PREFIX):]
            base[name if name not in CANONICAL or name == "text" else column] = table[column]
    parts = []
    for question, labels in _questions(builder, table, options).items():
        parts.append(base.assign(question=question, label=labels.to_numpy()))
    if not parts:
        return pd.DataFrame(), np.empty(0, dtype=np.int64)
    long = pd.concat(parts, ignore_index=True)
    return long, np.tile(records, len(parts))


def _questions(builder: AnnotationSetBuilder, table: pd.DataFrame, options: LoadOptions) -> dict[str, pd.Series]:
    """Question name -> one raw label per assignment ("" or None: no answer)."""
    groups: dict[str, list[tuple[str, str]]] = {}
    values: dict[str, str] = {}
    for column in (c for c in table.columns if c.startswith(ANSWER_PREFIX)):
        rest = column[len(ANSWER_PREFIX):]
        if rest.endswith(".on") or (_is_boolean(table[column]) and "." in rest):
            stem = rest[:-3] if rest.endswith(".on") else rest
            question, _, option = stem.rpartition(".")
            groups.setdefault(question or options.question or DEFAULT_QUESTION, []).append((option, column))
        else:
            question = rest[:-6] if rest.endswith(".label") else rest
            values[question] = column
    questions = {}
    for question, column in values.items():
        answers = table[column].str.strip()
        questions[question] = answers.where(answers != "", None)
        present = answers[answers != ""]
        if len(present) and present.str.len().mean() > FREE_TEXT_CHARS:
            builder.declare_question(question, "text")
    for question, options_of in groups.items():
        if question in questions:
            raise InputError(
                f"question {question!r} is both a value column and a set of checkboxes",
                path=builder.path, record=1, field=options_of[0][1],
            )
        questions[question] = _ticked(table, options_of, builder.path)
    return questions


def _is_boolean(column: pd.Series) -> bool:
    words = set(column.str.strip().str.lower().unique())
    return bool(words - {""}) and words <= (TRUE_WORDS | FALSE_WORDS) - {"1", "0", "1.0", "0.0"}


def _ticked(table: pd.DataFrame, options_of: list[tuple[str, str]], path: Path) -> pd.Series:
    """The ticked option of each assignment; a JSON list of them when the question is multi-label."""
    ticked = pd.DataFrame({
        option: table[column].str.strip().str.lower().isin(TRUE_WORDS - {"1", "1.0"}) for option, column in options_of
    })
    counts = ticked.sum(axis=1).to_numpy()
    names = np.asarray([option for option, _ in options_of], dtype=object)
    if (counts > 1).any():
        chosen = [json.dumps(sorted(names[row])) if row.any() else None for row in ticked.to_numpy()]
        return pd.Series(chosen, dtype=object)
    first = np.argmax(ticked.to_numpy(), axis=1) if len(names) else np.zeros(len(table), dtype=int)
    return pd.Series(np.where(counts == 1, names[first], None), dtype=object)
