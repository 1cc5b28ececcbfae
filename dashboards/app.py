"""The QA dashboard's entry: ``streamlit run dashboards/app.py -- --path EXPORT`` (or
``aqa dashboard EXPORT``).

It resolves the export and the configuration, loads them (cached by content hash), puts the
question picker in the sidebar and hands over to one module per page through ``st.navigation``.
Pages lay out what :class:`qa.dashboard_data.DashboardData` returns; they compute nothing.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboards import context

HERE = Path(__file__).resolve().parent
PAGES = [
    st.Page(HERE / "views" / "overview.py", title="Overview", icon=":material/dashboard:", url_path="overview", default=True),
    st.Page(HERE / "views" / "disputes.py", title="Disputed items", icon=":material/gavel:", url_path="disputes"),
    st.Page(HERE / "views" / "annotators.py", title="Annotators", icon=":material/group:", url_path="annotators"),
    st.Page(HERE / "views" / "labels.py", title="Labels", icon=":material/label:", url_path="labels"),
    st.Page(HERE / "views" / "coverage.py", title="Coverage", icon=":material/grid_on:", url_path="coverage"),
    st.Page(HERE / "views" / "checks.py", title="Checks", icon=":material/rule:", url_path="checks"),
]

st.set_page_config(page_title="Annotation QA", page_icon=":material/fact_check:", layout="wide")
navigation = st.navigation(PAGES)
if context.prepare() is None:
    st.title("Annotation QA")
    st.info("No export is open. Start the dashboard with `aqa dashboard EXPORT`, or upload an export in the sidebar.")
    st.stop()
navigation.run()
