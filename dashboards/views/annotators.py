"""Annotators: the calibration table with flags, pairwise agreement, each annotator's confusion
against the consensus, agreement trend by batch and week, gold accuracy, speed against agreement."""

from __future__ import annotations

import streamlit as st

from dashboards import charts, context
from metrics.calibration import CalibrationThresholds
from qa.dashboard_data import CALIBRATION_KINDS

ctx = context.current()
data, question = ctx.data, ctx.question

if data.kind(question) not in CALIBRATION_KINDS:
    context.page_header("Annotators", question)
    st.info(f"{context.plain(question)} is a {data.kind(question)} question: annotator calibration applies to "
            "categories, multi-label answers and ratings. Pick another question in the sidebar.")
    st.stop()

calibration = context.compute("Calibration", lambda: data.calibration(question))
if calibration is None:
    context.page_header("Annotators", question)
    st.stop()

header = st.container()
all_flags = sorted({flag for flags in calibration["flags"] for flag in flags})
flag_filter = st.multiselect("Only annotators flagged with", all_flags, key="annotators_flags")
with header:
    context.page_header("Annotators", question, {"flags": flag_filter})
shown = calibration if not flag_filter else calibration[calibration["flags"].map(lambda f: bool(set(f) & set(flag_filter)))]
columns = ["annotator_id", "annotator_kind", "flags", "n_items", "kappa_vs_consensus", "percent_vs_consensus",
           "alpha_change", "mean_pairwise_kappa", "gold_accuracy", "n_gold", "ds_accuracy", "overused_label",
           "overused_ratio", "leniency", "median_lead_time_s", "speed_ratio", "drop_window", "kappa_before",
           "kappa_after", "flag_reasons"]
context.show_table(shown[[c for c in columns if c in shown.columns]], key="annotators_table", column_config={
    name: st.column_config.NumberColumn(format="%.2f") for name in
    ("kappa_vs_consensus", "percent_vs_consensus", "alpha_change", "mean_pairwise_kappa", "gold_accuracy",
     "ds_accuracy", "overused_ratio", "leniency", "median_lead_time_s", "speed_ratio", "kappa_before", "kappa_after")
})

flagged = [str(a) for a, f in zip(calibration["annotator_id"], calibration["flags"], strict=True) if f]
left, right = st.columns(2)
with left:
    matrix = context.compute("Pairwise agreement", lambda: data.pair_matrix(question))
    if matrix is not None and not matrix.empty:
        st.plotly_chart(charts.pair_heatmap(matrix, "Pairwise agreement (shared items)"), key="annotators_pairs")
with right:
    names = [str(a) for a in calibration["annotator_id"]]
    if st.session_state.get("annotators_annotator") not in names:
        st.session_state["annotators_annotator"] = flagged[0] if flagged else names[0]
    annotator = st.selectbox("Annotator", names, key="annotators_annotator")
    confusion = context.compute("Confusion", lambda: data.annotator_confusion(question, annotator))
    if confusion is not None and len(confusion):
        st.plotly_chart(charts.confusion_heatmap(confusion, annotator), key="annotators_confusion")

st.subheader("Agreement trend")
tabs = st.tabs(["by batch", "by week"])
for tab, by in zip(tabs, ("batch", "week"), strict=True):
    with tab:
        trend = context.compute(f"Trend by {by}", lambda by=by: data.agreement_trend(question, by))
        if trend is not None and len(trend):
            st.plotly_chart(charts.trend_lines(trend, by, flagged), key=f"annotators_trend_{by}")
        elif trend is not None:
            st.caption(f"No {by} information in this export.")

left, right = st.columns(2)
with left:
    if "n_gold" in calibration and calibration["n_gold"].fillna(0).sum() > 0:
        st.plotly_chart(charts.gold_accuracy_bars(calibration, CalibrationThresholds().min_gold_accuracy),
                        key="annotators_gold")
    else:
        st.caption("No gold items for this question.")
with right:
    if calibration["median_lead_time_s"].notna().any():
        st.plotly_chart(charts.speed_scatter(calibration), key="annotators_speed")
    else:
        st.caption("No lead times in this export.")
