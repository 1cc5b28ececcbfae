"""Checks: the verdicts ``aqa check`` gives for this export and configuration (the same
``qa.checks.run_checks`` on the same measurements)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import context
from qa.checks import is_warning

ctx = context.current()
header = st.container()  # filled once the verdict filter is known: the page states it

run = context.compute("Checks", ctx.data.check_run)
if run is None:
    with header:
        context.page_header("Checks", None, {"configuration": str(ctx.config.path or "defaults")})
    st.stop()
counts = run.counts()
summary = st.columns(5)
summary[0].metric("Gate", run.verdict.upper())
summary[1].metric("Exit code", run.exit_code)
summary[2].metric("Failed", counts["fail"] + sum(r.verdict == "inconclusive" and r.blocking for r in run.results))
summary[3].metric("Warnings", sum(is_warning(r) for r in run.results))
summary[4].metric("Errors", counts["error"])
command = f"aqa check {ctx.source.path}" + (f" --config {ctx.config.path}" if ctx.config.path else "")
st.caption("The same verdicts as:")
st.code(command, language="bash")

table = pd.DataFrame([{
    "verdict": r.verdict, "check": r.name, "question": r.question or "", "value": r.value,
    "ci_low": r.ci_low, "ci_high": r.ci_high, "warn": r.threshold_warn, "fail": r.threshold_fail,
    "on": r.on, "blocking": r.blocking, "items_to_settle": r.items_to_settle, "message": r.message,
    "threshold source": r.threshold_source,
} for r in run.results])
verdicts = st.multiselect("Verdicts", sorted(set(table["verdict"])) if len(table) else [], key="checks_verdicts")
if verdicts:
    table = table[table["verdict"].isin(verdicts)]
with header:
    context.page_header("Checks", None, {"configuration": str(ctx.config.path or "defaults"),
                                         "inconclusive": ctx.config.inconclusive, "verdicts": verdicts})
context.show_table(table, key="checks_table", column_config={
    "value": st.column_config.NumberColumn(format="%.3f"),
    "ci_low": st.column_config.NumberColumn(format="%.3f"),
    "ci_high": st.column_config.NumberColumn(format="%.3f"),
})
for note in run.notes:
    st.caption(context.plain(note))
