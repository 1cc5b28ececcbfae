"""Labels: class balance with intervals, drift across windows (stacked shares, distance over time
with warn and fail bands, residual heatmap), and the label pairs annotators confuse, with examples."""

from __future__ import annotations

import streamlit as st

from dashboards import charts, context
from metrics import drift as drift_module
from qa.dashboard_data import CATEGORY_KINDS, NUMERIC_KINDS

ctx = context.current()
data, question = ctx.data, ctx.question
kind = data.kind(question)
header = st.container()
windows = data.drift_windows()
if st.session_state.get("labels_window") not in windows:
    st.session_state["labels_window"] = windows[0]
by = st.selectbox("Drift windows", windows, key="labels_window")
with header:
    context.page_header("Labels", question, {"windows": by})

if kind not in CATEGORY_KINDS + NUMERIC_KINDS:
    st.info(f"{context.plain(question)} is a {kind} question: class balance and drift apply to categories "
            "and ratings. Pick another question in the sidebar.")
    st.stop()

st.subheader("Class balance")
balance = context.compute("Class balance", lambda: data.balance(question))
if balance is not None:
    st.plotly_chart(charts.balance_bars(balance.counts, balance.min_support), key="labels_balance")
    figures = st.columns(4)
    figures[0].metric("Imbalance ratio", f"{balance.imbalance_ratio:.1f}")
    figures[1].metric("Normalized entropy", f"{balance.normalized_entropy:.2f}")
    figures[2].metric("Effective classes", f"{balance.effective_classes:.1f}")
    figures[3].metric("Verdict", balance.verdict)
    context.show_table(balance.verdicts, key="labels_balance_verdicts")

st.subheader("Drift")
drift = context.compute("Drift", lambda: data.drift(question, by))
if drift is not None and len(drift.omnibus.windows) < 2:
    st.info(f"Drift compares at least two {by} windows with labels; this question has "
            f"{len(drift.omnibus.windows)}. Pick other windows above, or wait for more batches.")
elif drift is not None:
    st.caption(f"Omnibus chi-square over {len(drift.omnibus.windows)} windows: p = {drift.omnibus.p_value:.3g} "
               f"({drift.omnibus.p_method}); worst window verdict: {drift.verdict}.")
    st.plotly_chart(charts.drift_shares(drift.counts, by), key="labels_drift_shares")
    if len(drift.comparisons):
        st.plotly_chart(charts.drift_distance(drift.comparisons, by, drift_module.DRIFT_WARN_DISTANCE,
                                              drift_module.DRIFT_FAIL_DISTANCE), key="labels_drift_distance")
        context.show_table(drift.comparisons, key="labels_drift_table", column_config={
            c: st.column_config.NumberColumn(format="%.3f") for c in
            ("chi2", "p_value", "p_adjusted", "js_distance", "tvd", "psi", "cramers_v")})
    if len(drift.residuals):
        st.plotly_chart(charts.residual_heatmap(drift.residuals, by), key="labels_drift_residuals")
    for note in drift.notes:
        st.caption(context.plain(note))

if kind in CATEGORY_KINDS:
    st.subheader("Confused label pairs")
    pairs = context.compute("Confusion pairs", lambda: data.confusion_pairs(question))
    if pairs is not None and len(pairs):
        st.plotly_chart(charts.confusion_pairs_bars(pairs), key="labels_pairs_chart")
        context.show_table(pairs, key="labels_pairs_table", column_config={
            c: st.column_config.NumberColumn(format="%.3f") for c in
            ("coincidence", "expected", "observed_over_expected", "share_of_disagreement", "lift")})
        names = [f"{a} / {b}" for a, b in zip(pairs["label_a"], pairs["label_b"], strict=True)]
        chosen = st.selectbox("Example items of the pair", range(len(names)), format_func=names.__getitem__,
                              key="labels_pair")
        examples = data.item_index().reindex([str(i) for i in pairs["example_item_ids"].iloc[chosen]])
        examples = examples.reset_index()[["item_id"] + (["text"] if "text" in examples.columns else [])]
        context.show_table(examples, key="labels_pair_examples")
    elif pairs is not None:
        st.caption("Annotators never gave two different labels to the same item.")
