"""Overview: per question, agreement with its interval and the gate verdict, items and
annotators, the few flags that matter most, and links to the rest."""

from __future__ import annotations

import streamlit as st

from dashboards import charts, context

ctx = context.current()
data = ctx.data
context.page_header("Overview", None, {"configuration": str(ctx.config.path or "defaults")})

report = ctx.annotations.load_report
annotations = ctx.annotations.annotations
columns = st.columns(4)
columns[0].metric("Items", f"{annotations['item_id'].nunique():,}")
columns[1].metric("Annotators", f"{annotations['annotator_id'].nunique():,}")
columns[2].metric("Annotations", f"{len(annotations):,}")
columns[3].metric("Questions", len(ctx.annotations.question_names))
st.caption(f"{report.format} export, {report.records_read:,} records read, {len(report.skipped):,} skipped.")

overview = context.compute("Agreement", data.overview)
if overview is not None:
    alpha_check = next((c for c in ctx.config.effective_checks() if c.metric == "krippendorff_alpha"), None)
    st.plotly_chart(charts.agreement_forest(overview, alpha_check.warn if alpha_check else None,
                                            alpha_check.fail if alpha_check else None),
                    key="overview_forest")
    context.show_table(overview, key="overview_table", column_config={
        "value": st.column_config.NumberColumn("agreement", format="%.3f"),
        "ci_low": st.column_config.NumberColumn(format="%.3f"),
        "ci_high": st.column_config.NumberColumn(format="%.3f"),
        "gate": st.column_config.TextColumn("gate verdict"),
    })

st.subheader("What matters most")
flags = context.compute("Flags", data.top_flags)
if flags is not None and len(flags):
    context.show_table(flags, key="overview_flags")
elif flags is not None:
    st.success("No check failed and no annotator is flagged.")

if len(report.skipped):
    with st.expander(f"Skipped records ({len(report.skipped):,})"):
        context.show_table(report.skipped_table(), key="overview_skipped")

st.subheader("Go to")
links = st.columns(5)
links[0].page_link("views/disputes.py", label="Disputed items", icon=":material/gavel:")
links[1].page_link("views/annotators.py", label="Annotators", icon=":material/group:")
links[2].page_link("views/labels.py", label="Labels", icon=":material/label:")
links[3].page_link("views/coverage.py", label="Coverage", icon=":material/grid_on:")
links[4].page_link("views/checks.py", label="Checks", icon=":material/rule:")
