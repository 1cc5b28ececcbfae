"""``aqa report``: one self-contained HTML file (or Markdown for a pull-request comment).

The report presents what :class:`~qa.measurements.Measurements` and :func:`~qa.checks.run_checks`
computed; it computes nothing itself. Sections: overview, check verdicts, agreement per question
with intervals (percent agreement and prevalence beside them: the prevalence paradox), pairwise
heatmaps, annotator calibration and flags, disputed items, class balance, label drift over
windows, diversity and coverage. A section whose metric module is not available is left out with
a note saying so; nothing is faked.

The HTML opens offline: plotly's JavaScript is inlined once in ``<head>``, figures are plain
``<div>`` + inline ``<script>``, and nothing is loaded from the network. Every text that comes
from the export (item texts, labels, annotator ids) is escaped with :func:`html.escape`.
"""

from __future__ import annotations

import datetime as _dt
import html
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from metrics.errors import MetricInputError
from qa import ci_outputs
from qa.checks import CheckRun
from qa.config import KRIPPENDORFF_RELIABLE, KRIPPENDORFF_TENTATIVE, Config
from qa.measurements import Measurements, MetricUnavailable
from qa.schema import AnnotationSet

DEFAULT_TOP_DISPUTES = 20
# Landis & Koch (1977) bands, for display only (MEASURES.md: never a gate).
LANDIS_KOCH_BANDS = ((0.0, "poor"), (0.20, "slight"), (0.40, "fair"), (0.60, "moderate"), (0.80, "substantial"), (1.0, "almost perfect"))
_AGREEMENT_KINDS = ("categorical", "multilabel", "ordinal", "interval")
_CATEGORY_KINDS = ("categorical", "ordinal")
CALIBRATION_COLUMNS = (
    "annotator_id", "n_items", "kappa_vs_consensus", "percent_vs_consensus", "correlation_vs_others",
    "alpha_change", "mean_pairwise_kappa", "n_gold", "gold_accuracy", "overused_label", "overused_ratio",
    "leniency", "speed_ratio", "drop_window", "flags",
)
DISPUTE_COLUMNS = (
    "rank", "item_id", "text", "score", "labels_by_annotator", "consensus_label", "consensus_confidence",
    "gold_label", "action", "reason",
)
MARKDOWN_TEXT_CHARS = 160
_PLOT_CONFIG = {"displaylogo": False, "responsive": True}


@dataclass(frozen=True)
class Section:
    """One report section. ``omitted`` says why it is left out (then the body is only a note)."""

    key: str
    title: str
    html: str = ""
    markdown: str = ""
    omitted: str = ""


@dataclass(frozen=True)
class Report:
    """A built report: render it with :meth:`to_html` or :meth:`to_markdown`."""

    title: str
    source: str
    generated_at: str
    sections: tuple[Section, ...]
    has_figures: bool

    def section(self, key: str) -> Section:
        for section in self.sections:
            if section.key == key:
                return section
        raise KeyError(f"no section {key!r}; the sections are {[s.key for s in self.sections]}")

    def to_html(self) -> str:
        """The whole report as one HTML document that needs no network."""
        return render_html(self)

    def to_markdown(self) -> str:
        """The report as Markdown (tables only, no figures), for a pull-request comment."""
        return render_markdown(self)


# ---------------------------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------------------------


def build_report(
    annotations: AnnotationSet,
    config: Config | None = None,
    *,
    measurements: Measurements | None = None,
    check_run: CheckRun | None = None,
    title: str | None = None,
    top_disputes: int = DEFAULT_TOP_DISPUTES,
) -> Report:
    """Compute (through ``measurements``) and lay out every section of the report."""
    config = config or Config()
    measurements = measurements or Measurements(
        annotations, ci_level=config.ci_level, n_boot=config.n_boot, seed=config.seed
    )
    source = annotations.load_report.source
    builders: list[tuple[str, str, Callable[[], tuple[str, str, bool]]]] = [
        ("overview", "Overview", lambda: _overview(annotations)),
        ("checks", "Check verdicts", lambda: _checks(check_run)),
        ("agreement", "Agreement per question", lambda: _agreement(measurements, config)),
        ("pairwise", "Pairwise agreement", lambda: _pairwise(measurements)),
        ("calibration", "Annotator calibration", lambda: _calibration(measurements)),
        ("disputes", "Disputed items", lambda: _disputes(measurements, top_disputes)),
        ("balance", "Class balance", lambda: _balance(measurements)),
        ("drift", "Label drift over windows", lambda: _drift(measurements)),
        ("diversity", "Diversity and coverage", lambda: _diversity(measurements)),
    ]
    sections = []
    has_figures = False
    for key, section_title, build in builders:
        try:
            body_html, body_md, figures = build()
        except MetricUnavailable as err:
            sections.append(_omitted(key, section_title, f"left out: {err}"))
            continue
        if not body_html:
            continue
        has_figures = has_figures or figures
        sections.append(Section(key, section_title, body_html, body_md))
    return Report(
        title=title or f"Annotation QA report: {Path(source).name or source}",
        source=source,
        generated_at=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        sections=tuple(sections),
        has_figures=has_figures,
    )


def _omitted(key: str, title: str, note: str) -> Section:
    return Section(key, title, html=f'<p class="note">{html.escape(note)}</p>', markdown=f"_{_md(note)}_\n", omitted=note)


def _per_question(
    measurements: Measurements, kinds: tuple[str, ...], body: Callable[[str], tuple[str, str, bool]]
) -> tuple[str, str, bool]:
    """Run ``body`` for every question of ``kinds``; a question the metric rejects becomes a note."""
    parts_html, parts_md, figures = [], [], False
    for question in measurements.questions():
        if measurements.kind(question) not in kinds:
            continue
        heading = f"<h3>{html.escape(question)}</h3>"
        try:
            part_html, part_md, has_figure = body(question)
        except (MetricInputError, ValueError) as err:
            part_html, part_md, has_figure = f'<p class="note">{html.escape(str(err))}</p>', f"_{_md(str(err))}_\n", False
        parts_html.append(heading + part_html)
        parts_md.append(f"#### {_md(question)}\n\n{part_md}")
        figures = figures or has_figure
    return "\n".join(parts_html), "\n".join(parts_md), figures


# -- overview -------------------------------------------------------------------------------


def _overview(annotations: AnnotationSet) -> tuple[str, str, bool]:
    table = annotations.annotations
    humans = table[table["annotator_kind"] == "human"]
    report = annotations.load_report
    facts = pd.DataFrame(
        {
            "figure": ["source", "format", "items", "human annotators", "annotations (human)", "model pre-labels", "gold labels", "skipped records"],
            "value": [
                report.source, report.format, f"{table['item_id'].nunique():,}", f"{humans['annotator_id'].nunique():,}",
                f"{len(humans):,}", f"{len(table) - len(humans):,}", f"{len(annotations.gold):,}", f"{len(report.skipped):,}",
            ],
        }
    )
    per_question = (
        humans.groupby("question", observed=True)
        .agg(annotations=("label", "size"), items=("item_id", "nunique"), annotators=("annotator_id", "nunique"))
        .reset_index()
    )
    questions = annotations.questions[["question", "kind", "level", "categories"]].merge(per_question, on="question", how="left")
    body_html = _table_html(facts) + _table_html(questions)
    body_md = _table_md(facts) + "\n" + _table_md(questions)
    skipped = report.skipped_table()
    if not skipped.empty:
        body_html += "<h3>Skipped records</h3>" + _table_html(skipped)
        body_md += "\n**Skipped records**\n\n" + _table_md(skipped)
    if report.notes:
        body_html += "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in report.notes) + "</ul>"
        body_md += "\n" + "".join(f"- {_md(n)}\n" for n in report.notes)
    return body_html, body_md, False


# -- checks ---------------------------------------------------------------------------------


def _checks(check_run: CheckRun | None) -> tuple[str, str, bool]:
    if check_run is None:
        return "", "", False
    rows = [
        f'<tr class="v-{r.verdict}"><td>{html.escape(ci_outputs.verdict_label(r))}</td>'
        + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells[1:])
        + f"<td>{html.escape(r.message)}</td></tr>"
        for r, cells in zip(check_run.results, ci_outputs.table_rows(check_run), strict=True)
    ]
    header = "".join(f"<th>{html.escape(c)}</th>" for c in (*ci_outputs.TABLE_COLUMNS, "details"))
    body_html = (
        f"<p><strong>{html.escape(ci_outputs.summary_line(check_run))}</strong></p>"
        f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    if check_run.notes:
        body_html += "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in check_run.notes) + "</ul>"
    body_md = ci_outputs.markdown_table(check_run, title="Check verdicts").split("\n", 2)[2]
    return body_html, body_md, False


# -- agreement ------------------------------------------------------------------------------


def landis_koch_band(value: float) -> str:
    """Landis & Koch (1977) band of a chance-corrected coefficient, for display only.

    >>> landis_koch_band(0.72), landis_koch_band(-0.1), landis_koch_band(float("nan"))
    ('substantial', 'poor', '')
    """
    if math.isnan(value):
        return ""
    for upper, band in LANDIS_KOCH_BANDS:
        if value <= upper:
            return band
    return LANDIS_KOCH_BANDS[-1][1]


def agreement_table(measurements: Measurements) -> pd.DataFrame:
    """One row per question: Krippendorff's alpha at its level with its interval, percent
    agreement and the majority class's prevalence (the prevalence paradox), Gwet's AC1/AC2 as a
    sensitivity reading when available, and the Landis & Koch band (display only)."""
    rows = []
    for question in measurements.questions():
        kind = measurements.kind(question)
        if kind in _AGREEMENT_KINDS:
            rows.append(_agreement_row(measurements, question, kind))
        elif kind == "spans":
            rows.append(_span_row(measurements, question))
    return pd.DataFrame(rows)


def _agreement_row(measurements: Measurements, question: str, kind: str) -> dict[str, Any]:
    alpha = measurements.agreement(question, "krippendorff_alpha")
    row: dict[str, Any] = {
        "question": question,
        "kind": kind,
        "coefficient": f"alpha ({alpha.level})",
        "value": alpha.value,
        "ci_low": alpha.ci_low,
        "ci_high": alpha.ci_high,
        "pairable_items": alpha.n_items,
        "band": landis_koch_band(alpha.value),
        "note": alpha.reason,
    }
    if kind in _CATEGORY_KINDS:
        row.update(_prevalence(measurements, question, alpha.value))
        try:
            gwet = measurements.agreement(question, "gwet_ac")
            row["gwet_ac"] = gwet.value
        except (MetricUnavailable, MetricInputError, ValueError):
            row["gwet_ac"] = math.nan
    return row


def _prevalence(measurements: Measurements, question: str, alpha_value: float) -> dict[str, Any]:
    from metrics.balance import prevalence_and_agreement

    ratings = measurements.ratings(question).assign(question=question)
    table = prevalence_and_agreement(ratings, {question: {"krippendorff_alpha": alpha_value}})
    if table.empty:
        return {}
    first = table.iloc[0]
    return {
        "percent_agreement": first["percent_agreement"],
        "majority_label": first["majority_label"],
        "majority_prevalence": first["majority_prevalence"],
        "paradox_suspected": bool(first["paradox_suspected"]),
    }


def _span_row(measurements: Measurements, question: str) -> dict[str, Any]:
    try:
        result = measurements.span_f1(question, "exact")
    except MetricUnavailable as err:
        return {"question": question, "kind": "spans", "coefficient": "span F1", "value": math.nan, "note": str(err)}
    return {
        "question": question,
        "kind": "spans",
        "coefficient": "span F1 (exact, micro)",
        "value": result.value,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "pairable_items": result.n_items,
        "note": result.reason,
    }


def _agreement(measurements: Measurements, config: Config) -> tuple[str, str, bool]:
    table = agreement_table(measurements)
    if table.empty:
        return '<p class="note">No question with an agreement coefficient.</p>', "_No question with an agreement coefficient._\n", False
    explanation = (
        f"Krippendorff's alpha at each question's level of measurement, {config.ci_level:.0%} item-bootstrap "
        f"interval. Reliable at >= {KRIPPENDORFF_RELIABLE:.3f}, tentative at >= {KRIPPENDORFF_TENTATIVE:.3f} "
        "(Krippendorff 2004). Percent agreement and the majority class's prevalence stand beside alpha: with one "
        "dominant class, alpha can be low while raw agreement is high (the prevalence paradox). Gwet's AC1 (AC2 "
        "weighted) is a sensitivity reading, not the gate; Landis & Koch bands are for display only."
    )
    figure = _forest_figure(table)
    body_html = f"<p>{html.escape(explanation)}</p>{figure}{_table_html(table)}"
    body_md = f"{_md(explanation)}\n\n{_table_md(table)}"
    return body_html, body_md, bool(figure)


def _forest_figure(table: pd.DataFrame) -> str:
    import plotly.graph_objects as go

    shown = table[table["value"].notna()] if "value" in table else table.iloc[0:0]
    if shown.empty:
        return ""
    low = shown.get("ci_low", pd.Series(np.nan, index=shown.index)).astype(float)
    high = shown.get("ci_high", pd.Series(np.nan, index=shown.index)).astype(float)
    labels = [plot_text(f"{q} · {c}") for q, c in zip(shown["question"], shown["coefficient"], strict=True)]
    figure = go.Figure(
        go.Scatter(
            x=shown["value"].astype(float),
            y=labels,
            mode="markers",
            marker={"size": 11},
            error_x={"type": "data", "symmetric": False, "array": (high - shown["value"]).fillna(0), "arrayminus": (shown["value"] - low).fillna(0)},
            name="estimate",
        )
    )
    for threshold, name in ((KRIPPENDORFF_TENTATIVE, "tentative 0.667"), (KRIPPENDORFF_RELIABLE, "reliable 0.800")):
        figure.add_vline(x=threshold, line_dash="dash", line_color="#888", annotation_text=name)
    figure.update_layout(height=140 + 45 * len(shown), margin={"l": 10, "r": 10, "t": 30, "b": 30}, xaxis={"range": [min(-0.1, float(np.nanmin(low.fillna(0)))), 1.02], "title": "agreement"})
    return figure_html(figure)


# -- pairwise -------------------------------------------------------------------------------


def _pairwise(measurements: Measurements) -> tuple[str, str, bool]:
    def body(question: str) -> tuple[str, str, bool]:
        pairs = measurements.pairwise(question)
        matrix = pair_matrix(pairs)
        if matrix.empty:
            return '<p class="note">No annotator pair shares enough items.</p>', "_No annotator pair shares enough items._\n", False
        return _heatmap(matrix, question), _table_md(pairs), True

    return _per_question(measurements, _CATEGORY_KINDS, body)


def pair_matrix(pairs: pd.DataFrame) -> pd.DataFrame:
    """A symmetric annotator x annotator matrix of the pairwise values (NaN when unpaired)."""
    first, second, value = _pair_columns(pairs)
    if pairs.empty or first is None:
        return pd.DataFrame()
    both = pd.concat(
        [
            pairs[[first, second, value]].set_axis(["a", "b", "value"], axis=1),
            pairs[[second, first, value]].set_axis(["a", "b", "value"], axis=1),
        ]
    )
    both["a"], both["b"] = both["a"].astype(str), both["b"].astype(str)
    return both.pivot_table(index="a", columns="b", values="value", aggfunc="first")


def _pair_columns(pairs: pd.DataFrame) -> tuple[str | None, str | None, str | None]:
    for first, second in (("annotator_a", "annotator_b"), ("a", "b"), ("rater_a", "rater_b")):
        if first in pairs.columns and second in pairs.columns:
            value = next((c for c in ("value", "kappa", "agreement", "coefficient_value") if c in pairs.columns), None)
            return first, second, value
    return None, None, None


def _heatmap(matrix: pd.DataFrame, question: str) -> str:
    import plotly.graph_objects as go

    values = matrix.to_numpy(dtype=float)
    figure = go.Figure(
        go.Heatmap(
            z=values,
            x=[plot_text(c) for c in matrix.columns],
            y=[plot_text(i) for i in matrix.index],
            zmin=-1,
            zmax=1,
            colorscale="RdBu",
            text=np.where(np.isnan(values), "", np.round(values, 2).astype(str)),
            texttemplate="%{text}",
            hovertemplate="%{y} vs %{x}: %{z:.3f}<extra></extra>",
        )
    )
    size = 160 + 40 * len(matrix)
    figure.update_layout(height=min(size, 700), width=min(size + 140, 860), margin={"l": 10, "r": 10, "t": 30, "b": 10}, title=plot_text(f"{question}: pairwise agreement"))
    return figure_html(figure)


# -- calibration and disputes -----------------------------------------------------------------


def _calibration(measurements: Measurements) -> tuple[str, str, bool]:
    def body(question: str) -> tuple[str, str, bool]:
        table = measurements.calibration(question)
        flagged = table[table["flags"].map(lambda f: bool(f) if not isinstance(f, float) else False)]
        shown = table[[c for c in CALIBRATION_COLUMNS if c in table.columns]]
        summary = f"{len(flagged)} of {len(table)} annotators flagged."
        reasons = "".join(
            f"<li><strong>{html.escape(str(annotator))}</strong>: {html.escape(format_cell(why))}</li>"
            for annotator, why in zip(flagged["annotator_id"], flagged.get("flag_reasons", flagged["flags"]), strict=True)
        )
        body_html = f"<p>{html.escape(summary)}</p>" + (f"<ul>{reasons}</ul>" if reasons else "") + _table_html(shown)
        return body_html, f"{_md(summary)}\n\n{_table_md(shown)}", False

    return _per_question(measurements, _CATEGORY_KINDS, body)


def _disputes(measurements: Measurements, top: int) -> tuple[str, str, bool]:
    texts = measurements.annotations.items.set_index("item_id")["text"] if "text" in measurements.annotations.items.columns else None

    def body(question: str) -> tuple[str, str, bool]:
        table = measurements.disputes(question)
        shown = table.head(top).copy()
        if texts is not None and "item_id" in shown.columns:
            shown.insert(2, "text", shown["item_id"].astype(str).map(texts).fillna(""))
        shown = shown[[c for c in DISPUTE_COLUMNS if c in shown.columns]]
        brief = shown.assign(text=shown["text"].map(_shorten)) if "text" in shown.columns else shown
        summary = f"{len(table)} disputed items; the top {len(shown)} by rank."
        return f"<p>{html.escape(summary)}</p>" + _table_html(shown), f"{_md(summary)}\n\n{_table_md(brief)}", False

    return _per_question(measurements, _AGREEMENT_KINDS + ("spans",), body)


# -- balance, drift, diversity ----------------------------------------------------------------


def _balance(measurements: Measurements) -> tuple[str, str, bool]:
    def body(question: str) -> tuple[str, str, bool]:
        result = measurements.balance(question)
        figures = pd.DataFrame(
            {
                "figure": ["labels", "categories (K)", "imbalance ratio", "rarest share x K", "normalized entropy", "effective classes", "missing categories", "below min support"],
                "value": [result.n, result.k, result.imbalance_ratio, result.rarest_share_times_k, result.normalized_entropy, result.effective_classes, ", ".join(map(str, result.missing_categories)) or "none", ", ".join(map(str, result.below_min_support)) or "none"],
            }
        )
        figure = _balance_figure(result.counts, question)
        body_html = figure + _table_html(figures) + _table_html(result.verdicts)
        body_md = _table_md(figures) + "\n" + _table_md(result.counts)
        return body_html, body_md, bool(figure)

    return _per_question(measurements, _CATEGORY_KINDS, body)


def _balance_figure(counts: pd.DataFrame, question: str) -> str:
    import plotly.graph_objects as go

    if counts.empty:
        return ""
    share = counts["share"].astype(float)
    figure = go.Figure(
        go.Bar(
            x=[plot_text(label) for label in counts["label"]],
            y=share,
            error_y={"type": "data", "symmetric": False, "array": (counts["ci_high"] - share).fillna(0), "arrayminus": (share - counts["ci_low"]).fillna(0)},
            hovertemplate="%{x}: %{y:.1%}<extra></extra>",
        )
    )
    figure.update_layout(height=320, margin={"l": 10, "r": 10, "t": 30, "b": 10}, yaxis={"tickformat": ".0%", "title": "share (95% Wilson)"}, title=plot_text(f"{question}: label shares"))
    return figure_html(figure)


def _drift(measurements: Measurements) -> tuple[str, str, bool]:
    def body(question: str) -> tuple[str, str, bool]:
        result = measurements.drift(question)
        comparisons = result.comparisons.drop(columns=["adjust"], errors="ignore")
        figure = _drift_figure(result.counts, question, result.by)
        intro = f"Windows by {result.by}; each compared with the {'previous window' if result.mode == 'consecutive' else 'reference window'} (verdict: {result.verdict})."
        notes = "".join(f'<p class="note">{html.escape(n)}</p>' for n in result.notes)
        body_html = f"<p>{html.escape(intro)}</p>{figure}{_table_html(comparisons)}{notes}"
        return body_html, f"{_md(intro)}\n\n{_table_md(comparisons)}", bool(figure)

    return _per_question(measurements, _CATEGORY_KINDS, body)


def _drift_figure(counts: pd.DataFrame, question: str, by: str) -> str:
    import plotly.graph_objects as go

    if counts.empty or len(counts) < 2:
        return ""
    shares = counts.div(counts.sum(axis=1), axis=0)
    figure = go.Figure()
    windows = [plot_text(w) for w in shares.index]
    for label in shares.columns:
        figure.add_trace(go.Scatter(x=windows, y=shares[label], mode="lines+markers", name=plot_text(label)))
    figure.update_layout(height=340, margin={"l": 10, "r": 10, "t": 30, "b": 10}, yaxis={"tickformat": ".0%", "title": "share"}, xaxis={"title": plot_text(by)}, title=plot_text(f"{question}: label shares by {by}"))
    return figure_html(figure)


def _diversity(measurements: Measurements) -> tuple[str, str, bool]:
    if measurements.item_texts().empty:
        note = "The export holds no item texts: no diversity figures."
        return f'<p class="note">{html.escape(note)}</p>', f"_{note}_\n", False
    result = measurements.diversity()
    names = ("n", "n_sample", "distinct_1", "distinct_2", "compression_ratio", "vendi_score", "n_clusters", "cluster_coverage", "cluster_evenness", "exact_duplicate_rate", "near_duplicate_rate")
    figures = pd.DataFrame({"figure": list(names), "value": [getattr(result, name) for name in names]})
    intro = (
        "Lexical figures are means over fixed-size samples (compare at equal n); semantic figures use "
        "TF-IDF character n-grams reduced by SVD. Cluster coverage is the share of k-means clusters "
        "holding at least 3 texts. Diversity never fails a gate on its own."
    )
    body_html = f"<p>{html.escape(intro)}</p>{_table_html(figures)}"
    body_md = f"{_md(intro)}\n\n{_table_md(figures)}"
    if result.reason:
        body_html += f'<p class="note">{html.escape(result.reason)}</p>'
    return body_html, body_md, False


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------


def plot_text(value: Any) -> str:
    """A label from the export as plotly text: plotly renders ``<b>``, ``<a href>`` ... in labels
    as markup, so ``<``, ``>`` and ``&`` are escaped (plotly shows the entities as the characters).

    >>> plot_text("<a href='https://x'>ann</a> & co")
    "&lt;a href='https://x'&gt;ann&lt;/a&gt; &amp; co"
    """
    return html.escape(str(value), quote=False)


def figure_html(figure: Any) -> str:
    """A plotly figure as a ``<div>`` and an inline script; plotly.js itself is in ``<head>``."""
    return figure.to_html(full_html=False, include_plotlyjs=False, config=_PLOT_CONFIG)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}
h1{font-size:1.6rem}h2{border-bottom:2px solid #ddd;padding-bottom:.2rem;margin-top:2.2rem}h3{margin-top:1.4rem}
table{border-collapse:collapse;margin:.8rem 0;font-size:.86rem;display:block;overflow-x:auto}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top;max-width:38rem}
th{background:#f4f4f4}.note{color:#666;font-style:italic}
tr.v-pass td:first-child{color:#1a7f37}tr.v-warn td:first-child{color:#9a6700}
tr.v-fail td:first-child,tr.v-error td:first-child{color:#cf222e;font-weight:bold}
tr.v-inconclusive td:first-child{color:#8250df;font-weight:bold}
nav a{margin-right:1rem}
"""


def render_html(report: Report) -> str:
    """The report as one HTML document with plotly.js inlined once (only when it has figures)."""
    plotly_js = ""
    if report.has_figures:
        from plotly.offline import get_plotlyjs

        plotly_js = f'<script type="text/javascript">{get_plotlyjs()}</script>'
    nav = "".join(f'<a href="#{s.key}">{html.escape(s.title)}</a>' for s in report.sections)
    body = "\n".join(
        f'<section id="{s.key}"><h2>{html.escape(s.title)}</h2>\n{s.html}</section>' for s in report.sections
    )
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{html.escape(report.title)}</title>\n<style>{_CSS}</style>\n{plotly_js}\n</head>\n<body>\n"
        f"<h1>{html.escape(report.title)}</h1>\n"
        f'<p class="note">Generated {html.escape(report.generated_at)} by annotation-qa from {html.escape(report.source)}. '
        "This file is self-contained and opens offline.</p>\n"
        f"<nav>{nav}</nav>\n{body}\n</body>\n</html>\n"
    )


def render_markdown(report: Report) -> str:
    parts = [f"# {_md(report.title)}", "", f"_Generated {report.generated_at} from `{report.source}`; figures are in the HTML report._", ""]
    for section in report.sections:
        parts += [f"## {_md(section.title)}", "", section.markdown.rstrip(), ""]
    return "\n".join(parts)


def write_report(report: Report, path: str | Path, fmt: str = "html") -> Path:
    """Write the report as ``html`` or ``md`` to ``path``; returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = report.to_markdown() if fmt == "md" else report.to_html()
    target.write_text(text, encoding="utf-8")
    return target


def format_cell(value: Any) -> str:
    """A table cell as text: 3 decimals for floats, ``-`` for missing, sets and tuples joined.

    >>> format_cell(0.12345), format_cell(float("nan")), format_cell(("a", "b")), format_cell(True)
    ('0.123', '-', 'a, b', 'yes')
    """
    if value is None:
        return "-"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating)):
        return "-" if math.isnan(value) else f"{value:.3f}"
    if isinstance(value, (tuple, list, frozenset, set)):
        return ", ".join(format_cell(v) if not isinstance(v, str) else v for v in (sorted(value, key=str) if isinstance(value, (set, frozenset)) else value))
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    try:
        if pd.isna(value):
            return "-"
    except (TypeError, ValueError):
        pass
    return str(value)


def _table_html(frame: pd.DataFrame) -> str:
    """A DataFrame as an HTML table; every header and cell is escaped."""
    header = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(format_cell(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False, name=None)
    )
    return f"<table><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table>"


def _shorten(text: str, limit: int = MARKDOWN_TEXT_CHARS) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _table_md(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "_(none)_\n"
    header = "| " + " | ".join(_md(str(c)) for c in frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = ["| " + " | ".join(_md(format_cell(v)) for v in row) + " |" for row in frame.itertuples(index=False, name=None)]
    return "\n".join([header, rule, *rows]) + "\n"


def _md(text: str) -> str:
    return ci_outputs.markdown_cell(text)

