"""What the dashboard shows, computed once per export: the reductions behind every page.

:class:`DashboardData` wraps the :class:`~qa.measurements.Measurements` of one export (the same
object ``aqa check`` and ``aqa report`` read, built from the same configuration, so a number or a
verdict means the same everywhere) and adds the few reductions only the dashboard needs: the
overview table, the top flags, the disputed items' facets for filtering, one item's labels, the
consensus, confusion pairs, trends, duplicates and the strata grid. Every result is computed on
first use and kept (errors too), so a page rerun after a click costs a dictionary lookup. The
object is shared by browser sessions (the app holds one per export content hash), hence the lock
around computing.

Pages only lay out what these methods return.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from metrics.calibration import agreement_trend, annotator_confusion
from metrics.confusion import confusion_pairs
from metrics.consensus import consensus as make_consensus
from metrics.coverage import strata_coverage
from metrics.disputes import format_label
from metrics.diversity import conflicting_labels, diversity_by_source, duplicate_groups
from qa.adjudication import training_set
from qa.checks import CheckRun, run_checks
from qa.config import Config
from qa.measurements import Measurements
from qa.schema import AnnotationSet

#: Order in which verdicts are worse (the overview shows the worst of a question's gate).
VERDICT_SEVERITY = {"fail": 4, "inconclusive": 3, "error": 2, "warn": 1, "pass": 0}
#: Question kinds each page family applies to.
AGREEMENT_KINDS = ("categorical", "multilabel", "ordinal", "interval", "spans")
CATEGORY_KINDS = ("categorical", "multilabel")
CALIBRATION_KINDS = ("categorical", "multilabel", "ordinal", "interval")
NUMERIC_KINDS = ("ordinal", "interval")
#: Metadata columns with at most this many distinct values can be strata (language, channel...)...
MAX_STRATUM_VALUES = 50
#: ... when their values are short (a canned reply with 40 variants is text, not a stratum).
MAX_STRATUM_VALUE_CHARS = 40
#: The overview lists this many flags: the few that matter most.
TOP_FLAGS = 8


@dataclass(frozen=True)
class ItemView:
    """One item of one question: its text and metadata, every label with who gave it, the
    consensus and the gold label."""

    item_id: str
    question: str
    text: str | None
    metadata: dict[str, Any]
    labels: pd.DataFrame
    consensus_label: Any
    consensus_confidence: float
    is_tie: bool
    gold_label: Any
    label_values: tuple = ()


class DashboardData:
    """Cached reductions of one export for the dashboard.

    Parameters
    ----------
    annotations : the loaded export.
    config : the check configuration (its ``ci_level``, ``n_boot`` and ``seed`` make the
        intervals, its checks the verdicts), as ``aqa check`` reads it.

    Examples
    --------
    >>> import pandas as pd
    >>> from qa.schema import (AnnotationSet, LoadReport, QuestionSpec, canonical_annotations,
    ...                        canonical_gold, canonical_items, questions_table)
    >>> rows = pd.DataFrame({"item_id": [1, 1, 2, 2], "annotator_id": list("abab"),
    ...                      "question": "q", "label": ["x", "x", "x", "y"]})
    >>> export = AnnotationSet(canonical_annotations(rows), canonical_items([{"item_id": 1, "text": "hi"}]),
    ...                        canonical_gold([]), questions_table([QuestionSpec("q", "categorical")]),
    ...                        LoadReport("mem", "long", 4, 4))
    >>> data = DashboardData(export, Config(n_boot=0))
    >>> data.disputes("q")["item_id"].tolist()
    ['2']
    >>> data.item_view("q", "2").labels["label"].tolist()
    ['x', 'y']
    """

    def __init__(self, annotations: AnnotationSet, config: Config | None = None) -> None:
        self.annotations = annotations
        self.config = config or Config()
        self.measurements = Measurements(
            annotations, ci_level=self.config.ci_level, n_boot=self.config.n_boot, seed=self.config.seed
        )
        self._cache: dict[tuple, tuple[bool, Any]] = {}
        self._training_sets: dict[str, tuple[tuple, pd.DataFrame]] = {}
        self._lock = threading.RLock()

    # -- plumbing -------------------------------------------------------------------------
    def _cached(self, key: tuple, compute: Callable[[], Any]) -> Any:
        if key not in self._cache:
            with self._lock:
                if key not in self._cache:
                    try:
                        self._cache[key] = (True, compute())
                    except Exception as err:  # kept: a failing reduction is not retried on every rerun
                        self._cache[key] = (False, err)
        ok, value = self._cache[key]
        if not ok:
            raise value
        return value

    def questions(self, kinds: Sequence[str] | None = None) -> list[str]:
        """Question names, optionally only those of ``kinds``."""
        names = self.annotations.question_names
        return [q for q in names if kinds is None or self.kind(q) in kinds]

    def kind(self, question: str) -> str:
        return self.measurements.kind(question)

    def ratings(self, question: str) -> pd.DataFrame:
        """Human annotations of one question (what every metric reads)."""
        with self._lock:
            return self.measurements.ratings(question)

    def all_ratings(self, question: str) -> pd.DataFrame:
        """Annotations of one question including model annotators (pre-labels)."""
        return self._cached(("all_ratings", question), lambda: self.annotations.for_question(question, humans_only=False))

    # -- overview and checks ------------------------------------------------------------------
    def check_run(self) -> CheckRun:
        """The verdicts ``aqa check`` gives for this export and configuration (the same
        :func:`qa.checks.run_checks` on the same :class:`Measurements`)."""
        def compute() -> CheckRun:
            return run_checks(self.annotations, self.config, self.measurements,
                              source=self.annotations.load_report.source)

        return self._cached(("check_run",), compute)

    def agreement(self, question: str) -> Any:
        """The headline agreement of a question: Krippendorff's alpha at its level (span F1
        for spans questions), with its interval."""
        with self._lock:
            if self.kind(question) == "spans":
                return self.measurements.span_f1(question, "exact")
            return self.measurements.agreement(question, "krippendorff_alpha")

    def overview(self) -> pd.DataFrame:
        """One row per question: ``question``, ``kind``, ``n_items``, ``n_annotators``,
        ``n_annotations``, ``coefficient``, ``value``, ``ci_low``, ``ci_high``, ``gate``
        (the worst verdict of the question's checks; empty when no check ran on it),
        ``gate_message``, ``n_disputed``, ``n_flagged_annotators``, ``note``."""
        return self._cached(("overview",), self._overview)

    def _overview(self) -> pd.DataFrame:
        results = pd.DataFrame([r.__dict__ for r in self.check_run().results])
        rows = []
        for question in self.questions():
            ratings = self.ratings(question)
            row: dict[str, Any] = {
                "question": question, "kind": self.kind(question),
                "n_items": int(ratings["item_id"].nunique()),
                "n_annotators": int(ratings["annotator_id"].nunique()),
                "n_annotations": len(ratings),
            }
            row.update(self._agreement_columns(question))
            row.update(_gate_columns(results, question))
            row["n_disputed"] = _count_or_nan(lambda q=question: len(self.disputes(q)))
            row["n_flagged_annotators"] = _count_or_nan(
                lambda q=question: int((self.calibration(q)["flags"].map(len) > 0).sum()))
            rows.append(row)
        return pd.DataFrame(rows)

    def _agreement_columns(self, question: str) -> dict[str, Any]:
        if self.kind(question) not in AGREEMENT_KINDS:
            return {"coefficient": "", "value": math.nan, "ci_low": math.nan, "ci_high": math.nan, "note": "free text"}
        try:
            result = self.agreement(question)
        except Exception as err:  # shown as a note: the overview must render for every question
            return {"coefficient": "", "value": math.nan, "ci_low": math.nan, "ci_high": math.nan, "note": str(err)}
        name = "span F1 (exact)" if self.kind(question) == "spans" else f"alpha ({result.level})"
        return {"coefficient": name, "value": result.value, "ci_low": result.ci_low,
                "ci_high": result.ci_high, "note": result.reason}

    def top_flags(self, limit: int = TOP_FLAGS) -> pd.DataFrame:
        """The few findings that matter most, worst first: ``severity`` (``fail`` / ``warn`` /
        ``info``), ``question``, ``page`` (where to look), ``finding``."""
        return self._cached(("top_flags", limit), lambda: self._top_flags(limit))

    def _top_flags(self, limit: int) -> pd.DataFrame:
        rows = []
        for result in self.check_run().results:
            if result.verdict in ("fail", "inconclusive", "error", "warn"):
                severity = "warn" if result.verdict == "warn" or not result.blocking and result.verdict != "error" else "fail"
                rows.append({"severity": severity, "question": result.question or "", "page": "checks",
                             "finding": f"{result.name}: {result.verdict}. {result.message}"})
        for question in self.questions(CALIBRATION_KINDS):
            rows.extend(self._annotator_flag_rows(question))
            rows.extend(self._gold_conflict_rows(question))
        columns = ["severity", "question", "page", "finding"]
        if not rows:
            return pd.DataFrame(columns=columns)
        table = pd.DataFrame(rows, columns=columns)
        rank = table["severity"].map({"fail": 0, "warn": 1, "info": 2})
        return table.assign(_rank=rank).sort_values("_rank", kind="stable").head(limit)[columns].reset_index(drop=True)

    def _annotator_flag_rows(self, question: str) -> list[dict]:
        try:
            table = self.calibration(question)
        except Exception:
            return []
        flagged = table[table["flags"].map(len) > 0]
        return [{"severity": "warn", "question": question, "page": "annotators",
                 "finding": f"{row.annotator_id}: " + "; ".join(row.flag_reasons or row.flags)}
                for row in flagged.itertuples()]

    def _gold_conflict_rows(self, question: str) -> list[dict]:
        try:
            disputes = self.disputes(question)
        except Exception:
            return []
        n_conflicts = int((disputes["action"] == "gold_conflict").sum()) if "action" in disputes else 0
        if not n_conflicts:
            return []
        return [{"severity": "info", "question": question, "page": "disputes",
                 "finding": f"{n_conflicts} item(s) whose consensus contradicts gold"}]

    # -- disputes and items -------------------------------------------------------------------
    def disputes(self, question: str) -> pd.DataFrame:
        """The ranked disputed items of a question (``metrics.disputed_items``, as ``aqa report``)."""
        def compute() -> pd.DataFrame:
            with self._lock:
                table = self.measurements.disputes(question)
            table = table.copy()
            table["item_id"] = table["item_id"].astype(str)
            return table.reset_index(drop=True)

        return self._cached(("disputes", question), compute)

    def dispute_facets(self, question: str) -> pd.DataFrame:
        """Who labelled each disputed item, in which batch, with which label: ``item_id``,
        ``annotator_id``, ``batch``, ``label`` (as text); the table the filters run on."""
        def compute() -> pd.DataFrame:
            ratings = self.ratings(question)
            disputed = self.disputes(question)["item_id"].to_numpy(dtype=object)
            rows = ratings[ratings["item_id"].isin(disputed)]  # on the categorical codes
            return pd.DataFrame({
                "item_id": _as_text(rows["item_id"]),
                "annotator_id": _as_text(rows["annotator_id"]),
                "batch": _as_text(rows["batch"]),
                "label": format_labels(rows["label"]),
            })

        return self._cached(("dispute_facets", question), compute)

    def consensus(self, question: str) -> pd.DataFrame:
        """Consensus per item without gold (majority; median for ratings), as the disputes use:
        ``item_id``, ``label``, ``confidence``, ``is_tie``, ..."""
        def compute() -> pd.DataFrame:
            numeric = self.kind(question) in NUMERIC_KINDS
            level = self.measurements.level(question) if numeric else None
            frame = self.ratings(question)[["item_id", "annotator_id", "label"]]
            frame = frame.assign(item_id=frame["item_id"].astype(str), annotator_id=frame["annotator_id"].astype(str))
            table = make_consensus(frame, method="median" if numeric else "majority", level=level)
            return table.assign(item_id=table["item_id"].astype(str))

        return self._cached(("consensus", question), compute)

    def item_index(self) -> pd.DataFrame:
        """The items table indexed by ``item_id`` (str)."""
        def compute() -> pd.DataFrame:
            items = self.annotations.items
            return items.assign(item_id=items["item_id"].astype(str)).set_index("item_id")

        return self._cached(("item_index",), compute)

    def item_view(self, question: str, item_id: str) -> ItemView:
        """One item: text, metadata, every label (humans and models) with who gave it and
        when, the consensus and the gold label."""
        return self._cached(("item_view", question, str(item_id)), lambda: self._item_view(question, str(item_id)))

    def _item_view(self, question: str, item_id: str) -> ItemView:
        index = self.item_index()
        row = index.loc[item_id] if item_id in index.index else pd.Series(dtype=object)
        text = row.get("text") if "text" in row.index else None
        text = None if text is None or (isinstance(text, float) and math.isnan(text)) else str(text)
        metadata = {k: v for k, v in row.items() if k != "text" and not _missing(v)}
        ratings = self.all_ratings(question)
        mine = ratings[ratings["item_id"] == item_id]
        labels = pd.DataFrame({
            "annotator_id": mine["annotator_id"].astype(str).to_numpy(dtype=object),
            "annotator_kind": mine["annotator_kind"].astype(str).to_numpy(dtype=object),
            "label": mine["label"].map(format_label).to_numpy(dtype=object),
            "batch": mine["batch"].astype(object).to_numpy(dtype=object),
            "created_at": mine["created_at"].to_numpy(),
            "lead_time_s": mine["lead_time_s"].to_numpy(dtype=float),
        }).sort_values(["annotator_kind", "annotator_id"], kind="stable").reset_index(drop=True)
        consensus = self.consensus(question)
        chosen = consensus[consensus["item_id"] == item_id]
        gold = self.annotations.gold_for(question)
        gold_rows = gold[gold["item_id"].astype(str) == item_id]
        return ItemView(
            item_id=item_id, question=question, text=text, metadata=metadata, labels=labels,
            consensus_label=chosen["label"].iloc[0] if len(chosen) else None,
            consensus_confidence=float(chosen["confidence"].iloc[0]) if len(chosen) else math.nan,
            is_tie=bool(chosen["is_tie"].iloc[0]) if len(chosen) and "is_tie" in chosen else False,
            gold_label=gold_rows["label"].iloc[0] if len(gold_rows) else None,
            label_values=tuple(mine["label"]),
        )

    def label_choices(self, question: str, item_id: str) -> list[Any]:
        """Labels an adjudicator can pick: the declared categories, else the labels annotators
        used on the question (categories and ratings); for multi-label and span questions, the
        answers given on this item, its consensus and its gold."""
        view = self.item_view(question, item_id)
        local = [view.gold_label, view.consensus_label]
        local += list(view.label_values)
        if self.kind(question) in ("categorical", "ordinal", "interval"):
            declared = list(self.annotations.question(question).categories)
            local += declared or self._observed_labels(question)
        choices: list[Any] = []
        seen: set[str] = set()
        for value in local:
            if _missing(value):
                continue
            key = format_label(value)
            if key not in seen:
                seen.add(key)
                choices.append(value)
        if self.kind(question) in ("ordinal", "interval"):
            choices = [int(v) if isinstance(v, float) and v.is_integer() else v for v in choices]
            choices.sort(key=lambda v: float(v) if isinstance(v, (int, float)) else math.inf)
        return choices

    def _observed_labels(self, question: str) -> list[Any]:
        def compute() -> list[Any]:
            distinct = pd.unique(self.ratings(question)["label"].to_numpy(dtype=object))
            values = [v for v in distinct if isinstance(v, (str, int, float)) and not _missing(v)]
            return sorted(values, key=lambda v: (isinstance(v, str), v))

        return self._cached(("observed_labels", question), compute)

    def training_set(self, question: str, decisions: pd.DataFrame, min_confidence: float = 0.0) -> pd.DataFrame:
        """The adjudicated set of a question (see :func:`qa.adjudication.training_set`).

        Kept until the decisions change, keyed by their content (two stores of identical
        exports share this object, so a decision count or id alone could mix their sets up);
        only the latest set per question is kept, so a day of adjudicating does not pile up
        one table per decision."""
        key = (_decisions_key(decisions), float(min_confidence))
        with self._lock:
            cached = self._training_sets.get(question)
        if cached is not None and cached[0] == key:
            return cached[1]
        frame = self._training_set(question, decisions, min_confidence)
        with self._lock:
            self._training_sets[question] = (key, frame)
        return frame

    def _training_set(self, question: str, decisions: pd.DataFrame, min_confidence: float) -> pd.DataFrame:
        return training_set(self.annotations.items, self.consensus(question), self.annotations.gold_for(question),
                            decisions, question, min_confidence=min_confidence)

    # -- annotators -----------------------------------------------------------------------------
    def calibration(self, question: str) -> pd.DataFrame:
        """One row per annotator with flags (``metrics.annotator_calibration``)."""
        def compute() -> pd.DataFrame:
            with self._lock:
                return self.measurements.calibration(question)

        return self._cached(("calibration", question), compute)

    def pairwise(self, question: str) -> pd.DataFrame:
        """One row per annotator pair (``metrics.pairwise_agreement``)."""
        def compute() -> pd.DataFrame:
            with self._lock:
                return self.measurements.pairwise(question)

        return self._cached(("pairwise", question), compute)

    def pair_matrix(self, question: str) -> pd.DataFrame:
        """The pairwise values as a symmetric annotator x annotator matrix (NaN: no shared items)."""
        def compute() -> pd.DataFrame:
            pairs = self.pairwise(question)
            both = pd.concat([
                pairs[["annotator_a", "annotator_b", "value"]].set_axis(["a", "b", "value"], axis=1),
                pairs[["annotator_b", "annotator_a", "value"]].set_axis(["a", "b", "value"], axis=1),
            ])
            both = both.assign(a=both["a"].astype(str), b=both["b"].astype(str))
            return both.pivot_table(index="a", columns="b", values="value", aggfunc="first", dropna=False)

        return self._cached(("pair_matrix", question), compute)

    def annotator_confusion(self, question: str, annotator: str) -> pd.DataFrame:
        """One annotator's labels against the leave-one-out consensus (``metrics.annotator_confusion``)."""
        def compute() -> pd.DataFrame:
            return annotator_confusion(self.all_ratings(question)[["item_id", "annotator_id", "label", "annotator_kind"]],
                            annotator, level=self._metric_level(question),
                            categories=self.measurements.categories(question))

        return self._cached(("annotator_confusion", question, str(annotator)), compute)

    def agreement_trend(self, question: str, by: str) -> pd.DataFrame:
        """Each annotator's agreement with the consensus per ``batch`` or ``week``."""
        def compute() -> pd.DataFrame:
            return agreement_trend(self.ratings(question), by=by, level=self._metric_level(question),
                            categories=self.measurements.categories(question))

        return self._cached(("agreement_trend", question, by), compute)

    def _metric_level(self, question: str) -> str | None:
        level = self.measurements.level(question)
        return level if level in ("nominal", "ordinal", "interval", "ratio", "multilabel") else None

    # -- labels ---------------------------------------------------------------------------------
    def balance(self, question: str) -> Any:
        """Class balance (``metrics.class_balance``)."""
        def compute() -> Any:
            with self._lock:
                return self.measurements.balance(question)

        return self._cached(("balance", question), compute)

    def drift_windows(self) -> list[str]:
        """Windows label drift can be computed over for this export (default first)."""
        table = self.annotations.annotations
        windows = [self.measurements.default_window()]
        if table["batch"].nunique() > 1:
            windows.append("batch")
        if table["created_at"].notna().any():
            windows += ["week", "day"]
        windows.append("annotator")
        return list(dict.fromkeys(windows))

    def drift(self, question: str, by: str) -> Any:
        """Label drift over ``by`` windows (``metrics.label_drift``)."""
        def compute() -> Any:
            with self._lock:
                return self.measurements.drift(question, by)

        return self._cached(("drift", question, by), compute)

    def confusion_pairs(self, question: str) -> pd.DataFrame:
        """Pairs of labels annotators confuse, with example items (``metrics.confusion_pairs``)."""
        def compute() -> pd.DataFrame:
            return confusion_pairs(self.ratings(question)[["item_id", "annotator_id", "label"]],
                                   categories=self.measurements.categories(question))

        return self._cached(("confusion_pairs", question), compute)

    # -- coverage -------------------------------------------------------------------------------
    def diversity(self) -> Any:
        """Text diversity of the items (``metrics.text_diversity``)."""
        def compute() -> Any:
            with self._lock:
                return self.measurements.diversity()

        return self._cached(("diversity",), compute)

    def items_with_text(self) -> pd.DataFrame:
        """``item_id`` and ``text`` of the items that have a text."""
        def compute() -> pd.DataFrame:
            items = self.annotations.items
            if "text" not in items.columns:
                return pd.DataFrame({"item_id": pd.Series(dtype=object), "text": pd.Series(dtype=object)})
            present = items[items["text"].notna()]
            return pd.DataFrame({"item_id": present["item_id"].astype(str).to_numpy(dtype=object),
                                 "text": present["text"].astype(str).to_numpy(dtype=object)})

        return self._cached(("items_with_text",), compute)

    def duplicate_groups(self) -> pd.DataFrame:
        """Exact and near-duplicate texts (``metrics.diversity.duplicate_groups``)."""
        def compute() -> pd.DataFrame:
            return duplicate_groups(self.items_with_text(), seed=self.config.seed)

        return self._cached(("duplicate_groups",), compute)

    def conflicting_labels(self, question: str) -> pd.DataFrame:
        """Duplicates whose consensus labels differ (``metrics.diversity.conflicting_labels``)."""
        def compute() -> pd.DataFrame:
            consensus = self.consensus(question)
            labelled = consensus[consensus["label"].map(lambda v: not _missing(v))]
            labelled = labelled.assign(label=labelled["label"].map(format_label))
            return conflicting_labels(self.items_with_text(), labelled[["item_id", "label"]], seed=self.config.seed)

        return self._cached(("conflicting_labels", question), compute)

    def diversity_by_source(self, source_column: str = "source") -> pd.DataFrame:
        """Diversity per item source (``metrics.diversity.diversity_by_source``)."""
        def compute() -> pd.DataFrame:
            items = self.annotations.items
            frame = items[items["text"].notna()][["item_id", "text", source_column]]
            return diversity_by_source(frame.assign(item_id=frame["item_id"].astype(str)), source_column=source_column,
                            seed=self.config.seed)

        return self._cached(("diversity_by_source", source_column), compute)

    def strata_columns(self) -> list[str]:
        """Item metadata columns that can be strata (2 to ``MAX_STRATUM_VALUES`` distinct values)."""
        def compute() -> list[str]:
            items = self.annotations.items
            columns = [c for c in items.columns if c not in ("item_id", "text")]
            chosen = []
            for column in columns:  # one pass per metadata column, not per item
                values = pd.Series(items[column].dropna().astype(str).unique())
                if 2 <= len(values) <= MAX_STRATUM_VALUES and values.str.len().max() <= MAX_STRATUM_VALUE_CHARS:
                    chosen.append(column)
            return chosen

        return self._cached(("strata_columns",), compute)

    def strata_grid(self, rows: str, columns: str | None, min_count: int) -> pd.DataFrame:
        """Item counts per stratum cell (see :func:`strata_grid`)."""
        return self._cached(("strata_grid", rows, columns, int(min_count)),
                            lambda: strata_grid(self.annotations.items, rows, columns, min_count))


def strata_grid(items: pd.DataFrame, rows: str, columns: str | None, min_count: int) -> pd.DataFrame:
    """Items per cell of one or two metadata columns, every combination of their values listed
    (an empty cell is the finding), against a minimum count per cell.

    Returns
    -------
    DataFrame
        ``rows`` value, ``columns`` value (when given), ``n_items``, ``share`` (of all items),
        ``at_target`` (``n_items >= min_count``).

    Examples
    --------
    >>> items = pd.DataFrame({"lang": ["en", "en", "de"], "channel": ["chat", "email", "chat"]})
    >>> strata_grid(items, "lang", "channel", 1)[["lang", "channel", "n_items", "at_target"]].values.tolist()
    [['de', 'chat', 1, True], ['de', 'email', 0, False], ['en', 'chat', 1, True], ['en', 'email', 1, True]]
    """
    keys = [rows] + ([columns] if columns and columns != rows else [])
    values = items[keys].astype(object).where(items[keys].notna(), "(missing)").astype(str)
    levels = [sorted(values[k].unique()) for k in keys]
    spec = pd.MultiIndex.from_product(levels, names=keys).to_frame(index=False)
    spec["min_count"] = int(min_count)
    coverage = strata_coverage(values, spec, columns=keys)  # every combination is a declared cell
    table = coverage.cells.rename(columns={"count": "n_items"})[[*keys, "n_items", "at_target"]]
    table.insert(len(keys) + 1, "share", table["n_items"] / max(len(items), 1))
    return table.sort_values(keys, kind="stable").reset_index(drop=True)


def format_labels(labels: pd.Series) -> np.ndarray:
    """:func:`metrics.disputes.format_label` of every label, computed once per distinct label.

    Examples
    --------
    >>> format_labels(pd.Series(["a", 2.0, frozenset({"x", "y"}), None], dtype=object)).tolist()
    ['a', '2', '{x, y}', '-']
    """
    codes, distinct = pd.factorize(np.asarray(labels, dtype=object), use_na_sentinel=True)
    texts = np.asarray([format_label(v) for v in distinct] + [format_label(None)], dtype=object)
    return texts[codes]


def filter_disputes(
    disputes: pd.DataFrame,
    facets: pd.DataFrame,
    *,
    actions: Sequence[str] = (),
    annotators: Sequence[str] = (),
    batches: Sequence[str] = (),
    labels: Sequence[str] = (),
) -> pd.DataFrame:
    """The disputed items that match every non-empty filter: an action among ``actions``, and an
    annotator / batch / given label among those chosen (an item matches a facet when any of its
    labels does).

    Examples
    --------
    >>> disputes = pd.DataFrame({"item_id": ["1", "2"], "action": ["adjudicate", "gold_conflict"]})
    >>> facets = pd.DataFrame({"item_id": ["1", "1", "2"], "annotator_id": ["a", "b", "a"],
    ...                        "batch": ["v1", "v1", "v2"], "label": ["x", "y", "x"]})
    >>> filter_disputes(disputes, facets, annotators=["b"])["item_id"].tolist()
    ['1']
    >>> filter_disputes(disputes, facets, actions=["gold_conflict"], labels=["x"])["item_id"].tolist()
    ['2']
    """
    keep = pd.Series(True, index=disputes.index)
    if actions:
        keep &= disputes["action"].isin(list(actions))
    for column, chosen in (("annotator_id", annotators), ("batch", batches), ("label", labels)):
        if chosen:
            matching = facets.loc[facets[column].isin(list(chosen)), "item_id"].unique()
            keep &= disputes["item_id"].isin(matching)
    return disputes[keep]


def with_decisions(disputes: pd.DataFrame, decisions: pd.DataFrame) -> pd.DataFrame:
    """The disputes with the current adjudication of each item: ``final_label`` (as text,
    empty when pending), ``decided_by``.

    Examples
    --------
    >>> disputes = pd.DataFrame({"item_id": ["1", "2"]})
    >>> decisions = pd.DataFrame({"item_id": ["2"], "final_label": ["x"], "decided_by": ["ana"]})
    >>> with_decisions(disputes, decisions)[["item_id", "final_label"]].values.tolist()
    [['1', ''], ['2', 'x']]
    """
    if decisions.empty:
        return disputes.assign(final_label="", decided_by="")
    latest = decisions.assign(item_id=decisions["item_id"].astype(str)).drop_duplicates("item_id", keep="last")
    latest = latest.set_index("item_id")
    final = latest["final_label"].map(format_label).reindex(disputes["item_id"])
    who = latest["decided_by"].astype(str).reindex(disputes["item_id"])
    return disputes.assign(final_label=final.fillna("").to_numpy(dtype=object),
                           decided_by=who.fillna("").to_numpy(dtype=object))


def _as_text(column: pd.Series) -> np.ndarray:
    """A (categorical) id column as an object array of str, "" where missing; one string per
    category, not per row."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        names = np.asarray([str(c) for c in column.cat.categories] + [""], dtype=object)
        return names[column.cat.codes.to_numpy()]  # code -1 (missing) picks the trailing ""
    return column.astype(object).where(column.notna(), "").astype(str).to_numpy(dtype=object)


def _gate_columns(results: pd.DataFrame, question: str) -> dict[str, Any]:
    if results.empty:
        return {"gate": "", "gate_message": ""}
    mine = results[(results["question"] == question) & (results["family"] == "agreement")]
    if mine.empty:
        return {"gate": "", "gate_message": ""}
    worst = mine.loc[mine["verdict"].map(VERDICT_SEVERITY).idxmax()]
    return {"gate": worst["verdict"], "gate_message": worst["message"]}


def _decisions_key(decisions: pd.DataFrame) -> str:
    """A digest of the decisions' content (ids, items, questions, labels, who, notes)."""
    if decisions.empty:
        return ""
    columns = [c for c in ("decision_id", "item_id", "question", "final_label", "decided_by", "note")
               if c in decisions.columns]
    return hashlib.sha256(repr(decisions[columns].to_numpy(dtype=object).tolist()).encode()).hexdigest()


def _count_or_nan(count: Callable[[], int]) -> float:
    try:
        return count()
    except Exception:  # the metric does not apply to this question
        return math.nan


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return False
