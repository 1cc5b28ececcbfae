"""The dashboard, page by page, through Streamlit's AppTest (no browser, no server).

Each test opens a small long-table export written to a temporary directory (so adjudications
land beside it and nowhere else), with a configuration that keeps the bootstrap short.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import qa
from dashboards import context
from qa.adjudication import AdjudicationStore, store_path_for
from qa.checks import run_checks
from qa.config import load_config

APP = Path(__file__).resolve().parents[1] / "dashboards" / "app.py"
PAGES = ("overview", "disputes", "annotators", "labels", "coverage", "checks")
TIMEOUT_S = 180
HOSTILE_TEXT = "<script>alert(1)</script> **bold** [link](http://x) <b>tag</b>"
HOSTILE_ITEM = "i000"
INTENTS = ("billing", "refund", "shipping", "how_to")


def write_export(folder: Path, n_items: int = 60, seed: int = 7) -> Path:
    """A long CSV: one categorical question, 3 of 5 annotators per item, one careless
    annotator, gold on every tenth item, two batches, text and two metadata columns."""
    rng = np.random.default_rng(seed)
    truth = rng.choice(INTENTS, size=n_items)
    annotators = ("ana", "ben", "cleo", "dev", "eve")
    rows = []
    for i in range(n_items):
        text = HOSTILE_TEXT if i == 0 else f"ticket {i}: please help with my {truth[i]} question"
        base = dict(item_id=f"i{i:03d}", question="intent", text=text, language=("en", "de")[i % 2],
                    channel=("chat", "email", "phone")[i % 3], batch="v1" if i < n_items // 2 else "v2")
        for k in range(3):
            who = annotators[(i + k) % 5]
            careless = who == "eve" and rng.random() < 0.7
            label = rng.choice(INTENTS) if careless or rng.random() < 0.1 else truth[i]
            label = INTENTS[k] if i == 0 else label  # the hostile item is disputed
            created = pd.Timestamp("2026-03-02T08:00:00Z") + pd.Timedelta(hours=6 * i + k)
            rows.append(base | dict(annotator_id=who, label=label, created_at=created.isoformat(),
                                    lead_time_s=float(rng.lognormal(3, 0.4)) / (5 if who == "eve" else 1),
                                    is_gold=False))
        if i % 10 == 0:
            rows.append(base | dict(annotator_id="", label=truth[i], created_at="", lead_time_s=np.nan, is_gold=True))
    path = folder / "project.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.fixture
def export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = write_export(tmp_path)
    config = tmp_path / "aqa.toml"
    config.write_text("n_boot = 200\nmin_pairable_items = 20\n", encoding="utf-8")
    monkeypatch.setenv(context.ENV_PATH, str(path))
    monkeypatch.setenv(context.ENV_CONFIG, str(config))
    monkeypatch.setenv("AQA_UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.setattr(context, "UPLOAD_DIR", tmp_path / "uploads")
    return path


def open_page(page: str = "overview") -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    app.run()
    if page != "overview":
        app.switch_page(f"views/{page}.py").run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def select_item(app: AppTest, item_id: str) -> AppTest:
    app.selectbox(key="disputes_item").select(item_id).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def save_decision(app: AppTest, who: str, label: str | None = None, note: str = "") -> AppTest:
    item_id = app.selectbox(key="disputes_item").value
    label_box = app.selectbox(key=f"adjudication_label_intent_{item_id}")
    if label is not None:
        label_box.select_index(label_box.options.index(label))
    app.text_input(key="adjudication_who").input(who)
    app.text_area(key=f"adjudication_note_intent_{item_id}").input(note)
    app.button(key="adjudication_save").click().run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def _frame_by_key(app: AppTest, key: str) -> pd.DataFrame:
    """The table a page shows under ``key`` (``context.show_table`` wraps it in a keyed container)."""
    return app.get_by_key(key).dataframe[0].value


def shown(markdown: str) -> str:
    """What a Markdown element displays: backslash escapes removed."""
    return re.sub(r"\\(.)", r"\1", markdown)


def all_text(app: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "caption", "title", "subheader", "info", "error", "success", "warning")
             for e in getattr(app, kind)]
    return "\n".join(map(str, parts))


# -- every page -------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_and_states_its_question(export: Path, page: str) -> None:
    app = open_page(page)
    captions = [c.value for c in app.caption]
    assert app.title, "every page has a title"
    if page in ("disputes", "annotators", "labels", "coverage"):
        assert any(c.startswith("Question: intent") for c in captions), captions


def test_overview_shows_agreement_interval_and_gate_verdict_per_question(export: Path) -> None:
    app = open_page()
    overview = _frame_by_key(app, "overview_table")
    row = overview.set_index("question").loc["intent"]
    assert row["ci_low"] <= row["value"] <= row["ci_high"]
    assert row["gate"] in ("pass", "warn", "fail", "inconclusive", "error")
    assert row["n_items"] == 60 and row["n_annotators"] == 5
    assert len(app.get("page_link")) == 5


def test_overview_lists_the_flagged_careless_annotator(export: Path) -> None:
    flags = _frame_by_key(open_page(), "overview_flags")
    assert flags["finding"].str.startswith("eve:").any(), flags["finding"].tolist()


def test_checks_page_gives_the_verdicts_of_aqa_check_from_the_same_configuration(export: Path) -> None:
    app = open_page("checks")
    shown = _frame_by_key(app, "checks_table")
    config = load_config(export.parent / "aqa.toml")
    expected = run_checks(qa.load(export), config)
    assert shown["verdict"].tolist() == [r.verdict for r in expected.results]
    assert shown["check"].tolist() == [r.name for r in expected.results]
    assert np.allclose(shown["value"].to_numpy(dtype=float), [r.value for r in expected.results], equal_nan=True)
    assert [m.value for m in app.metric if m.label == "Exit code"] == [str(expected.exit_code)]


def test_question_choice_is_kept_across_pages(export: Path) -> None:
    app = open_page("labels")
    assert any(c.value.startswith("Question: intent") for c in app.caption)
    app.switch_page("views/annotators.py").run()
    assert any(c.value.startswith("Question: intent") for c in app.caption)


# -- disputed items ---------------------------------------------------------------------------


def test_action_filter_narrows_the_list_and_is_stated(export: Path) -> None:
    app = open_page("disputes")
    everything = _frame_by_key(app, "disputes_table")
    action = everything["action"].iloc[0]
    app.multiselect(key="disputes_action").select(action).run()
    narrowed = _frame_by_key(app, "disputes_table")
    assert set(narrowed["action"]) == {action}
    assert any(f"action: {action.replace('_', chr(92) + '_')}" in c.value for c in app.caption)


def test_annotator_filter_keeps_only_items_that_annotator_labelled(export: Path) -> None:
    app = open_page("disputes")
    app.multiselect(key="disputes_annotator").select("eve").run()
    shown = _frame_by_key(app, "disputes_table")
    labelled_by_eve = set(qa.load(export).annotations.query("annotator_id == 'eve'")["item_id"].astype(str))
    assert len(shown) and set(shown["item_id"]) <= labelled_by_eve


def test_item_view_lists_every_label_with_who_gave_it(export: Path) -> None:
    app = open_page("disputes")
    item_id = app.selectbox(key="disputes_item").value
    labels = _frame_by_key(app, "disputes_item_labels")
    annotations = qa.load(export).annotations
    rows = annotations[annotations["item_id"] == item_id]
    assert sorted(labels["annotator_id"]) == sorted(rows["annotator_id"].astype(str))


def test_adjudication_is_written_to_the_store_beside_the_export(export: Path) -> None:
    app = open_page("disputes")
    item_id = app.selectbox(key="disputes_item").value
    save_decision(app, "qa-lead", "refund", note="clear refund request")
    current = AdjudicationStore(store_path_for(export)).current("intent")
    assert current[["item_id", "final_label", "decided_by", "note"]].values.tolist() == [
        [item_id, "refund", "qa-lead", "clear refund request"]]
    assert any("Saved" in s.value for s in app.success)
    shown = _frame_by_key(app, "disputes_table").set_index("item_id")
    assert shown.loc[item_id, "final_label"] == "refund"


def test_saving_without_a_name_records_nothing_and_says_why(export: Path) -> None:
    app = open_page("disputes")
    save_decision(app, "")
    assert AdjudicationStore(store_path_for(export)).history().empty
    assert any("who is deciding" in e.value for e in app.error)


def test_a_decision_survives_a_restart(export: Path) -> None:
    app = open_page("disputes")
    item_id = app.selectbox(key="disputes_item").value
    save_decision(app, "qa-lead", "shipping")
    st.cache_resource.clear()  # a new server process: nothing cached
    restarted = select_item(open_page("disputes"), item_id)
    assert _frame_by_key(restarted, "disputes_table").set_index("item_id").loc[item_id, "final_label"] == "shipping"
    history = _frame_by_key(restarted, "disputes_item_history")
    assert history[["final_label", "decided_by"]].values.tolist() == [["shipping", "qa-lead"]]


def test_a_second_decision_keeps_the_first_in_the_audit_trail(export: Path) -> None:
    app = open_page("disputes")
    save_decision(app, "ana", "refund")
    save_decision(app, "ben", "billing")
    history = _frame_by_key(app, "disputes_item_history")
    assert history[["final_label", "previous_label", "decided_by"]].values.tolist() == [
        ["refund", "", "ana"], ["billing", "refund", "ben"]]


def test_two_sessions_adjudicating_at_once_lose_nothing(export: Path) -> None:
    first, second = open_page("disputes"), open_page("disputes")
    items = _frame_by_key(first, "disputes_table")["item_id"].tolist()[:2]
    select_item(second, items[1])
    save_decision(first, "ana", "refund")
    save_decision(second, "ben", "billing")
    current = AdjudicationStore(store_path_for(export)).current("intent").set_index("item_id")
    assert current.loc[items[0], "decided_by"] == "ana" and current.loc[items[1], "decided_by"] == "ben"


def test_the_adjudicator_name_is_remembered_across_pages(export: Path) -> None:
    app = open_page("disputes")
    save_decision(app, "qa-lead")
    app.switch_page("views/overview.py").run()
    app.switch_page("views/disputes.py").run()
    assert app.text_input(key="adjudication_who").value == "qa-lead"


def test_the_adjudicated_set_downloads_as_jsonl_and_csv(export: Path) -> None:
    app = open_page("disputes")
    labels = [button.proto.label for button in app.get("download_button")]
    assert labels == ["Download JSONL", "Download CSV"]


# -- safety -----------------------------------------------------------------------------------


def test_item_text_with_html_and_markdown_shows_as_literal_text(export: Path) -> None:
    app = select_item(open_page("disputes"), HOSTILE_ITEM)
    assert [c.value for c in app.code if c.value == HOSTILE_TEXT] == [HOSTILE_TEXT]
    rendered = all_text(app)
    assert "<script>" not in rendered and "**bold**" not in rendered and "](http://x)" not in rendered
    assert not any(getattr(m.proto, "allow_html", False) for m in app.markdown)


def test_no_dashboard_source_allows_html_or_renders_item_text_as_markdown() -> None:
    sources = "\n".join(p.read_text(encoding="utf-8") for p in APP.parent.rglob("*.py"))
    assert "unsafe_allow_html" not in sources
    assert "st.html" not in sources
    assert not re.search(r"st\.(markdown|write)\([^)]*\.text", sources)


def test_a_malformed_export_shows_a_clear_message_not_a_traceback(export: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('[{"id": 1, "annotations": [{"result": ', encoding="utf-8")
    monkeypatch.setenv(context.ENV_PATH, str(broken))
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S).run()
    assert not app.exception
    assert any("could not be read" in e.value and "broken.json" in shown(e.value) for e in app.error)


def test_a_missing_export_path_says_so(export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(context.ENV_PATH, str(tmp_path / "nowhere.json"))
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S).run()
    assert not app.exception
    assert any("no such file" in e.value for e in app.error)


# AppTest loses a run that carries an upload when the script calls st.navigation (streamlit
# 1.67), so the upload path is exercised through the same context.prepare() in a bare script.
UPLOAD_HARNESS = """
import streamlit as st
from dashboards import context
opened = context.prepare()
st.text(f"opened {opened.source.path.name}" if opened else "nothing open")
"""


def upload(contents: bytes, name: str) -> AppTest:
    app = AppTest.from_string(UPLOAD_HARNESS, default_timeout=TIMEOUT_S).run()
    app.file_uploader(key="upload").set_value((name, contents, "text/csv"))
    return app.run()


def test_a_malformed_upload_shows_a_clear_message_not_a_traceback(export: Path) -> None:
    app = upload(b"\x00\x01\x02 not a table \xff\xfe", "garbage.csv")
    assert not app.exception
    assert any("could not be read" in e.value and "garbage.csv" in shown(e.value) for e in app.error)


def test_an_upload_over_the_size_limit_is_refused(export: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(context, "MAX_UPLOAD_MB", 0)
    app = upload(export.read_bytes(), "big.csv")
    assert not app.exception
    assert any("the limit is 0 MB" in e.value for e in app.error)


def test_an_uploaded_export_is_opened_and_kept_for_its_adjudications(export: Path, tmp_path: Path) -> None:
    app = upload(export.read_bytes(), "uploaded.csv")
    assert not app.exception
    assert [t.value for t in app.text] == ["opened uploaded.csv"]
    assert len(list((tmp_path / "uploads").rglob("uploaded.csv"))) == 1


def test_an_invalid_configuration_shows_a_clear_message(export: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[checks]]\nmetric = "alpha"\n', encoding="utf-8")
    monkeypatch.setenv(context.ENV_CONFIG, str(bad))
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S).run()
    assert not app.exception
    assert any("configuration could not be read" in e.value and "alpha" in e.value for e in app.error)


def test_no_export_shows_how_to_open_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(context.ENV_PATH, raising=False)
    monkeypatch.setenv(context.ENV_CONFIG, str(tmp_path / "aqa.toml"))
    (tmp_path / "aqa.toml").write_text("n_boot = 200\n", encoding="utf-8")
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S).run()
    assert not app.exception
    assert any("aqa dashboard" in i.value for i in app.info)


# -- a second reading: escaping, notes, empty states -----------------------------------------

HOSTILE_MARKDOWN = ("**bold**", "[x](http://evil)", ":red[x]", "<img src=x>", "http://evil.example")


def write_jsonl(folder: Path, rows: list[dict]) -> Path:
    path = folder / "edge.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")
    return path


def open_edge_export(folder: Path, rows: list[dict], monkeypatch: pytest.MonkeyPatch, page: str) -> AppTest:
    monkeypatch.setenv(context.ENV_PATH, str(write_jsonl(folder, rows)))
    return open_page(page)


def edge_rows(kind: str) -> list[dict]:
    """Small exports the sample never exercises: spans, one annotator, ratings, multi-label,
    and a question where everybody agrees (no disputes, no gold, no batches)."""
    rows = []
    for i in range(12):
        for k, who in enumerate(("a", "b", "c")):
            if kind == "spans":
                label = [] if (i + k) % 4 == 0 else [[0, 3 + (k if i % 2 else 0), "PER"]]
            elif kind == "ratings":
                label = (i + k * (i % 3)) % 5 + 1
            elif kind == "multilabel":
                label = [["a"], ["a", "b"], ["c"]][(i + k * (i % 2)) % 3]
            elif kind == "one_annotator":
                if who != "a":
                    continue
                label = ("x", "y")[i % 2]
            else:  # "agreement"
                label = ("x", "y")[i % 2]
            rows.append({"item_id": f"i{i}", "annotator_id": who, "question": "q", "label": label,
                         "text": f"Bob went home {i}"})
    return rows


@pytest.mark.parametrize("kind", ["spans", "ratings", "multilabel", "one_annotator", "agreement"])
@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_an_unusual_export_without_a_traceback(export: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   kind: str, page: str) -> None:
    app = open_edge_export(tmp_path, edge_rows(kind), monkeypatch, page)
    assert app.title


def test_a_question_without_disputes_says_so_and_still_offers_the_training_set(
        export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_edge_export(tmp_path, edge_rows("agreement"), monkeypatch, "disputes")
    assert any("No disputed items for this question" in i.value for i in app.info)
    assert not any("match these filters" in i.value for i in app.info)
    assert [b.proto.label for b in app.get("download_button")] == ["Download JSONL", "Download CSV"]


def test_drift_with_fewer_than_two_windows_says_so_instead_of_a_degenerate_test(
        export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_edge_export(tmp_path, edge_rows("one_annotator"), monkeypatch, "labels")
    app.selectbox(key="labels_window").select("batch").run()
    assert any("at least two batch windows" in i.value for i in app.info)
    assert not any("Omnibus chi-square over 0 windows" in c.value for c in app.caption)


def test_an_empty_span_answer_is_adjudicated_as_no_spans(export: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_edge_export(tmp_path, edge_rows("spans"), monkeypatch, "disputes")
    item_id = app.selectbox(key="disputes_item").value
    label_box = app.selectbox(key=f"adjudication_label_q_{item_id}")
    label_box.select_index(label_box.options.index("[]"))
    app.text_input(key="adjudication_who").input("qa-lead")
    app.button(key="adjudication_save").click().run()
    assert not app.exception
    decision = AdjudicationStore(store_path_for(tmp_path / "edge.jsonl")).current("q")["final_label"].tolist()
    assert decision == [()]
    assert _frame_by_key(app, "disputes_table").set_index("item_id").loc[item_id, "final_label"] == "[]"


def test_a_loader_message_quoting_a_label_shows_its_markdown_literally(export: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [{"item_id": "1", "annotator_id": "a", "question": "q", "label": "x"},
            {"item_id": "1", "annotator_id": "b", "question": "q", "label": "[x](http://evil)"}]
    monkeypatch.setenv(context.ENV_PATH, str(write_jsonl(tmp_path, rows)))
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S).run()
    errors = [e.value for e in app.error]
    assert any("[x](http://evil)" in shown(e) for e in errors), errors
    assert not any("](http" in e for e in errors), errors


def test_a_saved_message_shows_the_adjudicator_name_literally(export: Path) -> None:
    app = save_decision(open_page("disputes"), "**x** [me](http://evil)")
    saved = [s.value for s in app.success]
    assert any("**x** [me](http://evil)" in shown(s) for s in saved), saved
    assert not any("**x**" in s or "](http" in s for s in saved), saved


def test_a_note_is_not_carried_to_the_next_item(export: Path) -> None:
    app = open_page("disputes")
    first = app.selectbox(key="disputes_item").value
    save_decision(app, "qa-lead", "refund", note="customer asked for money back")
    second = next(i for i in _frame_by_key(app, "disputes_table")["item_id"] if i != first)
    select_item(app, second)
    app.button(key="adjudication_save").click().run()
    notes = AdjudicationStore(store_path_for(export)).current("intent").set_index("item_id")["note"]
    assert notes[first] == "customer asked for money back" and notes[second] == ""


@pytest.mark.parametrize("hostile", HOSTILE_MARKDOWN)
def test_export_strings_in_captions_display_literally(hostile: str) -> None:
    escaped = context.plain(hostile)
    assert shown(escaped) == hostile
    assert not re.search(r"(?<!\\)[\[\]*<>:]", escaped)


def test_an_export_is_hashed_once_until_it_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "export.csv"
    path.write_text("item_id,annotator_id,label\n1,a,x\n", encoding="utf-8")
    opened = []
    real_open = open
    monkeypatch.setattr("builtins.open", lambda *a, **k: opened.append(a[0]) or real_open(*a, **k))
    first = context.file_hash(path)
    assert context.file_hash(path) == first and opened == [path]
    path.write_text("item_id,annotator_id,label\n1,a,yy\n", encoding="utf-8")  # another size
    assert context.file_hash(path) != first


def test_the_checks_page_states_its_verdict_filter(export: Path) -> None:
    app = open_page("checks")
    verdict = _frame_by_key(app, "checks_table")["verdict"].iloc[0]
    app.multiselect(key="checks_verdicts").select(verdict).run()
    assert set(_frame_by_key(app, "checks_table")["verdict"]) == {verdict}
    assert any(f"verdicts: {verdict}" in shown(c.value) for c in app.caption), [c.value for c in app.caption]
