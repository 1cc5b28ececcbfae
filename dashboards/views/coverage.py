"""Coverage: the strata coverage grid, diversity figures, near-duplicates and conflicting labels.

The text figures embed every item text once (TF-IDF + SVD); on large exports they are computed
on request, then cached with the export.
"""

from __future__ import annotations

import streamlit as st

from dashboards import charts, context

#: Exports with at most this many item texts get their diversity figures without asking.
AUTO_DIVERSITY_ITEMS = 5_000

ctx = context.current()
data, question = ctx.data, ctx.question
strata = data.strata_columns()

header = st.container()
if strata:
    choose = st.columns(3)
    rows = choose[0].selectbox("Rows", strata, key="coverage_rows")
    other = ["(none)"] + [c for c in strata if c != rows]
    if st.session_state.get("coverage_columns") not in other:
        st.session_state["coverage_columns"] = other[1] if len(other) > 1 else other[0]
    columns = choose[1].selectbox("Columns", other, key="coverage_columns")
    min_count = int(choose[2].number_input("Minimum items per cell", 1, 1_000_000, 10, key="coverage_min_count"))
    columns = None if columns == "(none)" else columns
    with header:
        context.page_header("Coverage", question, {"rows": rows, "columns": columns or "none",
                                                   "minimum per cell": min_count})
    grid = data.strata_grid(rows, columns, min_count)
    at_target = grid["at_target"].mean() if len(grid) else float("nan")
    st.metric("Cells at target", f"{at_target:.0%}", help="share of cells with at least the minimum count")
    figure = (charts.strata_heatmap(grid, rows, columns, min_count) if columns
              else charts.strata_bars(grid, rows, min_count))
    st.plotly_chart(figure, key="coverage_grid")
    context.show_table(grid, key="coverage_grid_table", column_config={
        "share": st.column_config.NumberColumn(format="%.3f")})
else:
    with header:
        context.page_header("Coverage", question)
    st.caption("The items carry no metadata column with a few distinct values to use as strata.")

texts = data.items_with_text()
st.subheader("Diversity")
if texts.empty:
    st.caption("This export has no item texts.")
    st.stop()
if len(texts) > AUTO_DIVERSITY_ITEMS and not st.session_state.get("coverage_diversity_requested"):
    st.caption(f"{len(texts):,} texts: the diversity figures take a while on this many.")
    if st.button("Compute diversity and duplicates", key="coverage_compute"):
        st.session_state["coverage_diversity_requested"] = True
        st.rerun()
    st.stop()

with st.spinner("Embedding the texts…"):
    diversity = context.compute("Text diversity", data.diversity)
if diversity is not None:
    figures = st.columns(5)
    figures[0].metric("Texts", f"{diversity.n:,}")
    figures[1].metric("distinct-2", f"{diversity.distinct_2:.3f}", help=f"mean over {diversity.seeds} samples of {diversity.n_sample}")
    figures[2].metric("Vendi score", f"{diversity.vendi_score:.1f}", help="effective number of distinct texts in a sample")
    figures[3].metric("Cluster coverage", f"{diversity.cluster_coverage:.0%}", help=f"{diversity.n_clusters} k-means clusters")
    figures[4].metric("Near-duplicate rate", f"{diversity.near_duplicate_rate:.1%}",
                      help=f"exact: {diversity.exact_duplicate_rate:.1%}; cosine >= {diversity.near_threshold}")
    if diversity.reason:
        st.caption(context.plain(diversity.reason))
if "source" in ctx.annotations.items.columns and ctx.annotations.items["source"].nunique() > 1:
    by_source = context.compute("Diversity per source", data.diversity_by_source)
    if by_source is not None and len(by_source):
        st.plotly_chart(charts.source_diversity_bars(by_source), key="coverage_sources")
        context.show_table(by_source, key="coverage_sources_table")

st.subheader("Near-duplicates")
groups = context.compute("Duplicates", data.duplicate_groups)
if groups is not None:
    kinds = st.multiselect("Kind", ["exact", "near"], key="coverage_duplicate_kind")
    shown = groups[groups["kind"].isin(kinds)] if kinds else groups
    st.caption(f"{groups['group_id'].nunique() if len(groups) else 0:,} groups, {len(groups):,} texts; "
               f"kind: {', '.join(kinds) if kinds else 'all'}.")
    context.show_table(shown, key="coverage_duplicates")

st.subheader("Conflicting labels")
if data.kind(question) in ("categorical", "multilabel", "ordinal", "interval"):
    conflicts = context.compute("Conflicting labels", lambda: data.conflicting_labels(question))
    if conflicts is not None and len(conflicts):
        st.caption(f"{conflicts['group_id'].nunique():,} duplicate groups of {context.plain(question)} "
                   "whose consensus labels differ.")
        context.show_table(conflicts, key="coverage_conflicts")
    elif conflicts is not None:
        st.success("No duplicate texts with different consensus labels.")
else:
    st.caption(f"Conflicting labels compare category labels; {context.plain(question)} is a {data.kind(question)} question.")
