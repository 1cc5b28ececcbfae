"""Plotly figures of the dashboard: each takes a tidy table from ``qa`` / ``metrics`` and draws it.

No figure computes a statistic; thresholds come from the modules that own them. Category names
and annotator ids come from the export, and plotly reads a few HTML tags in text (``<b>``,
``<a>``), so every such string goes through :func:`safe` (HTML entities, shown literally).
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

VERDICT_COLOURS = {"pass": "#2e7d32", "warn": "#f9a825", "fail": "#c62828", "inconclusive": "#ef6c00",
                   "error": "#6d4c41", "": "#546e7a", "ok": "#2e7d32", "insufficient_data": "#90a4ae"}
DIVERGING = "RdBu"
SEQUENTIAL = "Blues"


def safe(value: Any) -> str:
    """A string from the export as plotly text that shows literally (no tags, no links)."""
    return html.escape(str(value), quote=False)


def _template_safe(value: Any) -> str:
    """A string from the export pasted into a plotly hovertemplate: escaped, and its ``%{``
    broken so plotly does not read it as a placeholder."""
    return safe(value).replace("%{", "%\u200b{")


def _safe_all(values: Iterable[Any]) -> list[str]:
    return [safe(v) for v in values]


def _layout(figure: go.Figure, title: str, height: int = 380) -> go.Figure:
    figure.update_layout(title=safe(title), height=height, margin=dict(l=10, r=10, t=50, b=10),
                         legend=dict(orientation="h", y=-0.2))
    return figure


def agreement_forest(overview: pd.DataFrame, warn: float | None, fail: float | None) -> go.Figure:
    """Each question's agreement with its interval, coloured by its gate verdict, beside the
    warn and fail thresholds of the agreement check."""
    table = overview[np.isfinite(overview["value"].to_numpy(dtype=float))]
    figure = go.Figure()
    for verdict, rows in table.groupby(table["gate"].fillna(""), sort=False):
        value = rows["value"].to_numpy(dtype=float)
        figure.add_trace(go.Scatter(
            x=value, y=_safe_all(rows["question"]), mode="markers", name=verdict or "no check",
            marker=dict(size=12, color=VERDICT_COLOURS.get(verdict, "#546e7a")),
            error_x=dict(type="data", symmetric=False,
                         array=np.nan_to_num(rows["ci_high"].to_numpy(dtype=float) - value),
                         arrayminus=np.nan_to_num(value - rows["ci_low"].to_numpy(dtype=float))),
            text=_safe_all(rows["coefficient"]), hovertemplate="%{y}: %{x:.3f} (%{text})<extra></extra>",
        ))
    _threshold_lines(figure, warn, fail, axis="x")
    figure.update_xaxes(title="agreement", range=[min(-0.05, float(table["ci_low"].fillna(0).min()) if len(table) else 0.0), 1.02])
    return _layout(figure, "Agreement per question (interval and gate verdict)", height=120 + 60 * max(len(table), 1))


def _threshold_lines(figure: go.Figure, warn: float | None, fail: float | None, *, axis: str) -> None:
    for value, colour, name in ((warn, VERDICT_COLOURS["warn"], "warn"), (fail, VERDICT_COLOURS["fail"], "fail")):
        if value is None or not math.isfinite(value):
            continue
        if axis == "x":
            figure.add_vline(x=value, line_dash="dash", line_color=colour, annotation_text=f"{name} {value:g}")
        else:
            figure.add_hline(y=value, line_dash="dash", line_color=colour, annotation_text=f"{name} {value:g}")


def pair_heatmap(matrix: pd.DataFrame, title: str) -> go.Figure:
    """Annotator x annotator agreement (blank where a pair shares no items)."""
    figure = go.Figure(go.Heatmap(
        z=matrix.to_numpy(dtype=float), x=_safe_all(matrix.columns), y=_safe_all(matrix.index),
        colorscale=DIVERGING, zmin=-1, zmax=1, texttemplate="%{z:.2f}", hoverongaps=False,
    ))
    figure.update_yaxes(autorange="reversed")
    return _layout(figure, title, height=200 + 28 * len(matrix))


def confusion_heatmap(confusion: pd.DataFrame, annotator: str) -> go.Figure:
    """One annotator's labels (columns) against the consensus (rows), as row shares."""
    grid = confusion.assign(consensus_label=confusion["consensus_label"].map(str),
                            annotator_label=confusion["annotator_label"].map(str))
    shares = grid.pivot_table(index="consensus_label", columns="annotator_label", values="share_of_consensus",
                              aggfunc="sum", fill_value=0.0)
    counts = grid.pivot_table(index="consensus_label", columns="annotator_label", values="n", aggfunc="sum", fill_value=0)
    labels = sorted(set(shares.index) | set(shares.columns))
    shares = shares.reindex(index=labels, columns=labels, fill_value=0.0)
    counts = counts.reindex(index=labels, columns=labels, fill_value=0)
    figure = go.Figure(go.Heatmap(
        z=shares.to_numpy(dtype=float), x=_safe_all(labels), y=_safe_all(labels), colorscale=SEQUENTIAL,
        zmin=0, zmax=1, customdata=counts.to_numpy(), texttemplate="%{customdata}",
        hovertemplate="consensus %{y}, gave %{x}: %{customdata} items (%{z:.0%})<extra></extra>",
    ))
    figure.update_xaxes(title=f"{safe(annotator)}'s label")
    figure.update_yaxes(title="consensus (others)", autorange="reversed")
    return _layout(figure, f"{annotator} against the consensus", height=260 + 26 * len(labels))


def trend_lines(trend: pd.DataFrame, by: str, flagged: Sequence[str] = ()) -> go.Figure:
    """Each annotator's kappa with the consensus per window (flagged annotators drawn bold)."""
    figure = go.Figure()
    ordered = trend.sort_values("window_order")
    for annotator, rows in ordered.groupby(ordered["annotator_id"].astype(str), sort=True):
        bold = annotator in set(flagged)
        figure.add_trace(go.Scatter(
            x=_safe_all(rows["window"]), y=rows["kappa_vs_consensus"], mode="lines+markers", name=safe(annotator),
            line=dict(width=4 if bold else 1.5), customdata=rows["n_items"],
            # the name is data: referenced, never pasted into the template (a "%{...}" in it would be read)
            hovertemplate="%{fullData.name} %{x}: kappa %{y:.2f} on %{customdata} items<extra></extra>",
        ))
    figure.update_xaxes(title=by, type="category")
    figure.update_yaxes(title="kappa with consensus", range=[-0.2, 1.05])
    return _layout(figure, f"Agreement with the consensus by {by}")


def gold_accuracy_bars(calibration: pd.DataFrame, threshold: float) -> go.Figure:
    """Gold accuracy per annotator with its Wilson interval and the flag threshold."""
    table = calibration[calibration["n_gold"].fillna(0) > 0].sort_values("gold_accuracy")
    accuracy = table["gold_accuracy"].to_numpy(dtype=float)
    figure = go.Figure(go.Bar(
        x=_safe_all(table["annotator_id"]), y=accuracy, customdata=table["n_gold"],
        error_y=dict(type="data", symmetric=False,
                     array=np.nan_to_num(table["gold_ci_high"].to_numpy(dtype=float) - accuracy),
                     arrayminus=np.nan_to_num(accuracy - table["gold_ci_low"].to_numpy(dtype=float))),
        hovertemplate="%{x}: %{y:.0%} on %{customdata} gold items<extra></extra>",
    ))
    figure.add_hline(y=threshold, line_dash="dash", line_color=VERDICT_COLOURS["fail"],
                     annotation_text=f"flag when the whole interval is below {threshold:.0%}")
    figure.update_yaxes(title="gold accuracy", range=[0, 1.05], tickformat=".0%")
    return _layout(figure, "Gold accuracy (95% Wilson interval)")


def speed_scatter(calibration: pd.DataFrame) -> go.Figure:
    """Median lead time against agreement with the consensus; flagged annotators in red."""
    table = calibration.assign(flagged=calibration["flags"].map(len) > 0)
    figure = go.Figure()
    for flagged, rows in table.groupby("flagged", sort=True):
        figure.add_trace(go.Scatter(
            x=rows["median_lead_time_s"], y=rows["kappa_vs_consensus"], mode="markers+text",
            text=_safe_all(rows["annotator_id"]), textposition="top center", name="flagged" if flagged else "not flagged",
            marker=dict(size=12, color=VERDICT_COLOURS["fail"] if flagged else VERDICT_COLOURS["pass"]),
            hovertemplate="%{text}: %{x:.1f} s, kappa %{y:.2f}<extra></extra>",
        ))
    crowd = calibration["crowd_median_lead_time_s"].dropna()
    if len(crowd):
        figure.add_vline(x=float(crowd.iloc[0]), line_dash="dot", annotation_text="crowd median")
    figure.update_xaxes(title="median lead time (s)", type="log")
    figure.update_yaxes(title="kappa with consensus")
    return _layout(figure, "Speed against agreement")


def balance_bars(counts: pd.DataFrame, min_support: int) -> go.Figure:
    """Share of each category with its Wilson interval; categories below the minimum support
    in amber, missing ones in red."""
    share = counts["share"].to_numpy(dtype=float)
    colours = np.where(counts["count"] == 0, VERDICT_COLOURS["fail"],
                       np.where(counts["below_min_support"], VERDICT_COLOURS["warn"], "#1565c0"))
    figure = go.Figure(go.Bar(
        x=_safe_all(counts["label"]), y=share, marker_color=colours, customdata=counts["count"],
        error_y=dict(type="data", symmetric=False,
                     array=np.nan_to_num(counts["ci_high"].to_numpy(dtype=float) - share),
                     arrayminus=np.nan_to_num(share - counts["ci_low"].to_numpy(dtype=float))),
        hovertemplate="%{x}: %{y:.1%} (%{customdata} labels)<extra></extra>",
    ))
    figure.update_yaxes(title="share of labels", tickformat=".0%")
    return _layout(figure, f"Class balance (95% Wilson intervals; amber: fewer than {min_support} labels)")


def drift_shares(counts: pd.DataFrame, by: str) -> go.Figure:
    """Stacked label shares per window."""
    totals = counts.sum(axis=1).replace(0, np.nan)
    shares = counts.div(totals, axis=0)
    figure = go.Figure()
    for label in shares.columns:
        figure.add_trace(go.Bar(
            x=_safe_all(shares.index), y=shares[label], name=safe(label),
            customdata=counts[label], hovertemplate="%{fullData.name} %{x}: %{y:.1%} (%{customdata})<extra></extra>",
        ))
    figure.update_layout(barmode="stack")
    figure.update_xaxes(title=by, type="category")
    figure.update_yaxes(title="share of labels", tickformat=".0%")
    return _layout(figure, f"Label shares by {by}")


def drift_distance(comparisons: pd.DataFrame, by: str, warn: float, fail: float) -> go.Figure:
    """JS distance and TVD of each window against its reference, over the warn and fail bands."""
    figure = go.Figure()
    upper = max(fail * 1.5, float(np.nanmax(comparisons[["js_distance", "tvd"]].to_numpy(dtype=float), initial=0)) * 1.1)
    figure.add_hrect(y0=warn, y1=fail, fillcolor=VERDICT_COLOURS["warn"], opacity=0.15, line_width=0,
                     annotation_text="warn band", annotation_position="top left")
    figure.add_hrect(y0=fail, y1=upper, fillcolor=VERDICT_COLOURS["fail"], opacity=0.12, line_width=0,
                     annotation_text="fail band", annotation_position="top left")
    for column, name in (("js_distance", "Jensen-Shannon distance (bits)"), ("tvd", "total variation")):
        figure.add_trace(go.Scatter(
            x=_safe_all(comparisons["window"]), y=comparisons[column], mode="lines+markers", name=name,
            customdata=_safe_all(comparisons["verdict"]),
            hovertemplate="%{x}: %{y:.3f} (%{customdata})<extra></extra>",
        ))
    figure.update_xaxes(title=by, type="category")
    figure.update_yaxes(title="distance from the reference", range=[0, upper])
    return _layout(figure, "Drift against the reference window (a window drifts only when also significant)")


def residual_heatmap(residuals: pd.DataFrame, by: str) -> go.Figure:
    """Adjusted standardized residuals window x label (|r| > 3 stands out)."""
    grid = residuals.assign(window=residuals["window"].map(str), label=residuals["label"].map(str))
    matrix = grid.pivot_table(index="window", columns="label", values="std_residual", aggfunc="first", sort=False)
    limit = max(3.5, float(np.nanmax(np.abs(matrix.to_numpy(dtype=float)), initial=0)))
    figure = go.Figure(go.Heatmap(
        z=matrix.to_numpy(dtype=float), x=_safe_all(matrix.columns), y=_safe_all(matrix.index),
        colorscale=DIVERGING, zmid=0, zmin=-limit, zmax=limit, texttemplate="%{z:.1f}",
    ))
    figure.update_yaxes(title=by, type="category")
    return _layout(figure, "Standardized residuals (|r| > 3 stands out)", height=220 + 30 * len(matrix))


def confusion_pairs_bars(pairs: pd.DataFrame, top: int = 15) -> go.Figure:
    """The most confused label pairs and their lift over chance (systematic ones in red)."""
    table = pairs.head(top).iloc[::-1]
    names = [f"{safe(a)} / {safe(b)}" for a, b in zip(table["label_a"], table["label_b"], strict=True)]
    figure = go.Figure(go.Bar(
        x=table["share_of_disagreement"], y=names, orientation="h", customdata=table["lift"],
        marker_color=np.where(table["systematic"], VERDICT_COLOURS["fail"], "#78909c"),
        hovertemplate="%{y}: %{x:.1%} of disagreement, lift %{customdata:.2f}<extra></extra>",
    ))
    figure.update_xaxes(title="share of all disagreement", tickformat=".0%")
    return _layout(figure, "Most confused label pairs (red: systematic)", height=160 + 24 * len(table))


def strata_heatmap(grid: pd.DataFrame, rows: str, columns: str, min_count: int) -> go.Figure:
    """Items per stratum cell; cells below the minimum count are marked."""
    matrix = grid.pivot_table(index=rows, columns=columns, values="n_items", aggfunc="sum", fill_value=0)
    below = matrix.to_numpy() < min_count
    text = np.where(below, np.char.add(matrix.to_numpy().astype(str), " !"), matrix.to_numpy().astype(str))
    figure = go.Figure(go.Heatmap(
        z=matrix.to_numpy(dtype=float), x=_safe_all(matrix.columns), y=_safe_all(matrix.index),
        colorscale=SEQUENTIAL, text=text, texttemplate="%{text}",
        hovertemplate=f"{_template_safe(rows)} %{{y}}, {_template_safe(columns)} %{{x}}: %{{z}} items<extra></extra>",
    ))
    figure.update_yaxes(autorange="reversed")
    return _layout(figure, f"Items per cell ('!': fewer than {min_count})", height=220 + 30 * len(matrix))


def strata_bars(grid: pd.DataFrame, rows: str, min_count: int) -> go.Figure:
    """Items per value of one stratum column."""
    figure = go.Figure(go.Bar(
        x=_safe_all(grid[rows]), y=grid["n_items"],
        marker_color=np.where(grid["at_target"], "#1565c0", VERDICT_COLOURS["fail"]),
    ))
    figure.add_hline(y=min_count, line_dash="dash", annotation_text=f"minimum {min_count}")
    return _layout(figure, f"Items per {rows}")


def source_diversity_bars(table: pd.DataFrame) -> go.Figure:
    """Vendi score and distinct-2 per item source (compared at equal sample size)."""
    figure = go.Figure()
    for column, name in (("vendi_score", "Vendi score"), ("distinct_2", "distinct-2 (x100)")):
        values = table[column].to_numpy(dtype=float) * (100 if column == "distinct_2" else 1)
        figure.add_trace(go.Bar(x=_safe_all(table["source"]), y=values, name=name))
    figure.update_layout(barmode="group")
    return _layout(figure, "Diversity per source (equal samples)")
