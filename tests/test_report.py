"""aqa report: one self-contained HTML file that needs no network, and a Markdown variant."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from aqa_synthetic import project
from plotly.offline import get_plotlyjs

from qa import measurements as measurements_module
from qa.checks import run_checks
from qa.config import Config
from qa.measurements import Measurements
from qa.report import build_report, write_report

HOSTILE_TEXT = "<script>alert('x')</script> refund & cancel order {item_id}"
RESOURCE_ATTRIBUTES = {"script": "src", "link": "href", "img": "src", "iframe": "src", "source": "src",
                       "embed": "src", "object": "data", "audio": "src", "video": "src"}


class ResourceCollector(HTMLParser):
    """Every resource a browser would load: src/href of script, link, img, iframe, ..."""

    def __init__(self) -> None:
        super().__init__()
        self.resources: list[str] = []
        self.script_tags = 0

    def handle_starttag(self, tag, attrs):
        self.script_tags += tag == "script"
        attribute = RESOURCE_ATTRIBUTES.get(tag)
        for name, value in attrs:
            if name == attribute and value:
                self.resources.append(value)


def loaded_resources(document: str) -> ResourceCollector:
    collector = ResourceCollector()
    collector.feed(document)
    return collector


@pytest.fixture(scope="module")
def annotations():
    return project({"intent": (150, 0.85), "tone": (150, 0.6)}, text_template=HOSTILE_TEXT)


@pytest.fixture(scope="module")
def report(annotations):
    measurements = Measurements(annotations)
    check_run = run_checks(annotations, Config(), measurements)
    return build_report(annotations, Config(), measurements=measurements, check_run=check_run)


@pytest.fixture(scope="module")
def document(report) -> str:
    return report.to_html()


def test_report_has_every_section_in_order(report):
    assert [s.key for s in report.sections] == [
        "overview", "checks", "agreement", "pairwise", "calibration", "disputes", "balance", "drift", "diversity"
    ]
    assert not any(s.omitted for s in report.sections)


def test_html_loads_no_external_resource(document):
    collector = loaded_resources(document)
    assert collector.resources == []  # nothing at all is fetched: no src, no href to a stylesheet
    assert "url(" not in document.split("<script", 1)[0]  # no CSS import before the inlined code


def test_plotly_javascript_is_inlined_exactly_once(document):
    assert document.count(get_plotlyjs()[:2000]) == 1
    assert document.index(get_plotlyjs()[:200]) < document.index("</head>")


def test_every_figure_is_an_inline_plotly_call(document):
    collector = loaded_resources(document)
    assert document.count("Plotly.newPlot(") >= 1
    assert collector.script_tags == 1 + document.count("Plotly.newPlot(")


def test_item_texts_are_escaped(document):
    assert "<script>alert(" not in document
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; refund &amp; cancel order" in document


def test_agreement_section_shows_percent_agreement_and_prevalence_beside_alpha(report):
    section = report.section("agreement").html
    for column in ("ci_low", "ci_high", "percent_agreement", "majority_prevalence", "paradox_suspected"):
        assert f"<th>{column}</th>" in section


def test_check_verdicts_appear_in_the_report(report):
    section = report.section("checks").html
    assert "krippendorff_alpha (intent)" in section and "krippendorff_alpha (tone)" in section


def test_markdown_variant_has_the_sections_and_no_markup_from_the_data(report, tmp_path):
    path = write_report(report, tmp_path / "report.md", "md")
    text = path.read_text()
    assert "## Agreement per question" in text and "## Check verdicts" in text
    assert "<script>" not in text and "&lt;script&gt;" in text


def test_write_report_writes_one_html_file(report, tmp_path):
    path = write_report(report, tmp_path / "nested" / "report.html")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_a_section_whose_metric_module_is_missing_is_left_out_with_a_note(monkeypatch):
    small = project({"intent": (60, 0.9)}, text_template=None)
    monkeypatch.setitem(measurements_module.FAMILY_MODULES, "calibration", "metrics.no_such_module")
    report = build_report(small, Config())
    section = report.section("calibration")
    assert section.omitted.startswith("left out: metrics.no_such_module is not available")
    assert "<table" not in section.html


def test_an_export_without_texts_says_so_instead_of_diversity_figures():
    report = build_report(project({"intent": (60, 0.9)}, text_template=None), Config())
    assert "no item texts" in report.section("diversity").html
    assert "checks" not in [s.key for s in report.sections]  # no check run given: no verdicts section


HOSTILE_IDS = {"ann": "<script>alert(1)</script>", "bea": "<img src=x onerror=alert(1)>", "cal": "c|l & \"co\""}


@pytest.fixture(scope="module")
def hostile_report():
    base = project({"intent": (80, 0.85)}, text_template="<img src=x onerror=alert(1)> {item_id}")
    annotations = base.annotations.assign(annotator_id=base.annotations["annotator_id"].astype(str).replace(HOSTILE_IDS))
    hostile = type(base)(annotations=annotations, items=base.items, gold=base.gold, questions=base.questions,
                         load_report=base.load_report)
    return build_report(hostile, Config(), measurements=Measurements(hostile))


def test_annotator_ids_and_texts_with_markup_are_inert_in_tables_and_figures(hostile_report):
    document = hostile_report.to_html().replace(get_plotlyjs(), "")
    for markup in ("<script>alert", "<img src=x", "onerror=alert(1)>"):
        assert markup not in document
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in document  # the table cell shows the id as text
    # in the figures' data the ids are entity-escaped, which plotly shows as text, not markup
    assert '"x":["&lt;img src=x onerror=alert(1)&gt;"' in document


def test_markdown_escapes_pipes_in_annotator_ids(hostile_report):
    markdown = hostile_report.to_markdown()
    assert "c\\|l &amp; \"co\"" in markdown and "| c|l" not in markdown


def test_plot_text_escapes_markup_plotly_would_render():
    from qa.report import plot_text

    assert plot_text("<b>ann</b> & <a href='https://x'>") == "&lt;b&gt;ann&lt;/b&gt; &amp; &lt;a href='https://x'&gt;"
