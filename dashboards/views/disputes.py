"""Disputed items: the ranked list with filters, one item with every label, and adjudication.

Decisions go to the append-only store beside the export (``qa.adjudication``); the adjudicated
set downloads as training-ready JSONL or CSV. Item text is shown with ``st.code`` (literal text:
never Markdown, never HTML).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import context
from metrics.disputes import ACTIONS, format_label
from qa.adjudication import training_csv, training_jsonl
from qa.dashboard_data import filter_disputes, with_decisions

STATUSES = ("all", "pending", "adjudicated")
SAVED_KEY = "disputes_saved"

# -- the adjudicated set --------------------------------------------------------------------------
def show_export() -> None:
    """The training-ready set of the question: shown even when nothing is disputed."""
    st.subheader("Export the adjudicated set")
    min_confidence = st.number_input("Minimum consensus confidence for unadjudicated items", 0.0, 1.0, 0.0, 0.05,
                                     key="disputes_min_confidence")
    training = data.training_set(question, store.current(question), min_confidence)
    by_source = training["source"].value_counts()
    n_items = data.ratings(question)["item_id"].nunique()
    st.caption(
        f"{len(training):,} of {n_items:,} items: " + ", ".join(f"{by_source.get(s, 0):,} {s}" for s in
                                                                ("adjudicated", "gold", "consensus"))
        + f"; {n_items - len(training):,} left out (a tie or low-confidence consensus nobody adjudicated)."
    )
    stem = f"{ctx.source.path.name}.{question}.training"
    downloads = st.columns(2)
    downloads[0].download_button(
        "Download JSONL", data=lambda: training_jsonl(data.training_set(question, store.current(question), min_confidence)),
        file_name=f"{stem}.jsonl", mime="application/jsonl", key="disputes_download_jsonl")
    downloads[1].download_button(
        "Download CSV", data=lambda: training_csv(data.training_set(question, store.current(question), min_confidence)),
        file_name=f"{stem}.csv", mime="text/csv", key="disputes_download_csv")


ctx = context.current()
data, question = ctx.data, ctx.question
store = ctx.store()

disputes = context.compute("Disputed items", lambda: data.disputes(question))
if disputes is None:
    context.page_header("Disputed items", question)
    st.stop()
facets = data.dispute_facets(question)
decisions = store.current(question)

header = st.container()
filters = st.columns(5)
actions = filters[0].multiselect("Action", [a for a in ACTIONS if a in set(disputes["action"])], key="disputes_action")
annotators = filters[1].multiselect("Annotator", sorted(facets["annotator_id"].unique()), key="disputes_annotator")
batches = filters[2].multiselect("Batch", sorted(b for b in facets["batch"].unique() if b), key="disputes_batch")
labels = filters[3].multiselect("Label given", sorted(facets["label"].unique()), key="disputes_label")
status = filters[4].selectbox("Status", STATUSES, key="disputes_status")

table = with_decisions(disputes, decisions)
table = filter_disputes(table, facets, actions=actions, annotators=annotators, batches=batches, labels=labels)
if status == "pending":
    table = table[table["final_label"] == ""]
elif status == "adjudicated":
    table = table[table["final_label"] != ""]

with header:
    context.page_header("Disputed items", question, {"action": actions, "annotator": annotators, "batch": batches,
                                                     "label": labels, "status": status})
counts = st.columns(3)
counts[0].metric("Disputed items", f"{len(disputes):,}")
counts[1].metric("Shown", f"{len(table):,}")
counts[2].metric("Adjudicated", f"{(with_decisions(disputes, decisions)['final_label'] != '').sum():,}")

listed = ["rank", "item_id", "action", "score", "n_labels", "label_counts", "consensus_label",
          "consensus_confidence", "gold_label", "final_label", "decided_by", "reason"]
context.show_table(table[[c for c in listed if c in table.columns]], key="disputes_table", column_config={
    "score": st.column_config.NumberColumn(format="%.2f"),
    "consensus_confidence": st.column_config.NumberColumn("confidence", format="%.2f"),
})

if disputes.empty:
    st.info("No disputed items for this question: every item's labels agree (or it has a single label). "
            "Nothing to adjudicate.")
if table.empty:
    if len(disputes):
        st.info("No disputed item matches these filters.")
    show_export()
    st.stop()

# -- one item -------------------------------------------------------------------------------------
choices_table = table.head(context.MAX_TABLE_ROWS)
options = choices_table["item_id"].tolist()
described = dict(zip(options, (f"#{r} · {i} · {a}" for r, i, a in zip(
    choices_table["rank"], choices_table["item_id"], choices_table["action"], strict=True)), strict=True))
if st.session_state.get("disputes_item") not in options:
    st.session_state["disputes_item"] = options[0]
item_id = st.selectbox("Item", options, format_func=described.get, key="disputes_item")
view = data.item_view(question, item_id)
row = table[table["item_id"] == item_id].iloc[0]

st.subheader(f"Item {context.plain(item_id)}")
if view.text is not None:
    st.code(view.text, language=None, wrap_lines=True)
else:
    st.caption("This export has no text for the item.")
if view.metadata:
    context.show_table(pd.DataFrame([view.metadata]), key="disputes_item_metadata")
summary = pd.DataFrame([{
    "consensus": format_label(view.consensus_label) if view.consensus_label is not None else "(tie)",
    "confidence": view.consensus_confidence, "tie": view.is_tie,
    "gold": format_label(view.gold_label) if view.gold_label is not None else "",
    "action": row["action"], "reason": row["reason"],
}])
context.show_table(summary, key="disputes_item_summary", column_config={
    "confidence": st.column_config.NumberColumn(format="%.2f")})
st.caption("Every label, with who gave it")
context.show_table(view.labels, key="disputes_item_labels")


# -- adjudication ---------------------------------------------------------------------------------
def save_decision(item: str, question_name: str, candidates: list, widget_key: str, note_key: str) -> None:
    """Form callback: runs before the rerun, so the list above shows the new status."""
    who = st.session_state.get("adjudication_who", "").strip()
    if not who:
        st.session_state[SAVED_KEY] = ("error", "Say who is deciding before saving.")
        return
    final = candidates[st.session_state[widget_key]]
    decision = store.decide(item, question_name, final, decided_by=who, note=st.session_state.get(note_key, ""))
    st.session_state[context.ADJUDICATOR_KEY] = who
    st.session_state[note_key] = ""  # a note belongs to one decision: never carried to the next
    replaced = "" if decision.previous_label is None else f" (replacing {format_label(decision.previous_label)})"
    # ids, labels and names come from the export or the user; st.success renders Markdown
    st.session_state[SAVED_KEY] = ("success", context.plain(
        f"Saved: item {item} is {format_label(final)}{replaced}, by {who}."))


st.subheader("Adjudicate")
candidates = data.label_choices(question, item_id)
current = decisions[decisions["item_id"] == item_id]
preferred = current["final_label"].iloc[-1] if len(current) else (
    view.consensus_label if view.consensus_label is not None else view.gold_label)
default = next((i for i, c in enumerate(candidates) if format_label(c) == format_label(preferred)), 0)
label_key = f"adjudication_label_{question}_{item_id}"
note_key = f"adjudication_note_{question}_{item_id}"  # per item: a note never lands on another item
if not candidates:
    st.info("No label to choose from for this item.")
else:
    with st.form("adjudication_form", clear_on_submit=False):
        st.selectbox("Final label", list(range(len(candidates))), index=default,
                     format_func=lambda i: format_label(candidates[i]), key=label_key)
        st.text_area("Note", key=note_key, placeholder="why (optional)")
        st.text_input("Who is deciding", value=st.session_state.get(context.ADJUDICATOR_KEY, ""), key="adjudication_who")
        st.form_submit_button("Save decision", type="primary", on_click=save_decision, key="adjudication_save",
                              args=(item_id, question, candidates, label_key, note_key))
saved = st.session_state.pop(SAVED_KEY, None)
if saved is not None:
    (st.success if saved[0] == "success" else st.error)(saved[1])

history = store.history(item_id=item_id, question=question)
if len(history):
    st.caption("Decisions on this item (audit trail, oldest first)")
    context.show_table(history.assign(final_label=history["final_label"].map(format_label),
                                      previous_label=history["previous_label"].map(
                                          lambda v: "" if v is None else format_label(v))),
                       key="disputes_item_history")
show_export()
