"""What every page shares: the loaded export, the configuration, the chosen question, and the
cached reductions.

The export comes from ``aqa dashboard PATH`` (``--path`` after ``--`` on the streamlit command
line, or ``AQA_DASHBOARD_PATH``), from the configuration's ``source``, or from an upload in the
sidebar. The configuration is the one ``aqa check`` would read: ``--config`` (or
``AQA_DASHBOARD_CONFIG``), else the nearest ``aqa.toml`` / ``[tool.aqa]`` upward from the current
directory, else the defaults. Loading is cached by the file's content hash, so a changed file is
reloaded and an unchanged one never is. Heavy, immutable results (the loaded set and its
:class:`~qa.dashboard_data.DashboardData`) are held with ``st.cache_resource`` so that a 1M-row
table is not copied on every rerun; pages must treat them as read-only.

Session state keys (explicit, all prefixed): ``question`` (the sidebar picker), ``upload``
(the sidebar uploader), ``aqa_context`` (this run's :class:`PageContext`), ``aqa_adjudicator``
(who is adjudicating, remembered across pages), and the per-page widget keys each page declares.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import streamlit as st

import qa
from qa.adjudication import AdjudicationStore, store_path_for
from qa.config import Config, load_config
from qa.dashboard_data import DashboardData
from qa.errors import AQAError

#: The upload limit in MB; None: Streamlit's ``server.maxUploadSize`` (set by ``aqa dashboard``,
#: ``.streamlit/config.toml`` or ``STREAMLIT_SERVER_MAX_UPLOAD_SIZE``), so the app and the
#: server agree.
MAX_UPLOAD_MB: int | None = None
UPLOAD_DIR = Path(os.environ.get("AQA_UPLOAD_DIR", Path.home() / ".cache" / "aqa" / "uploads"))
ENV_PATH, ENV_FORMAT, ENV_CONFIG = "AQA_DASHBOARD_PATH", "AQA_DASHBOARD_FORMAT", "AQA_DASHBOARD_CONFIG"
CONTEXT_KEY = "aqa_context"
ADJUDICATOR_KEY = "aqa_adjudicator"
#: Tables longer than this show their first rows only (the browser grid stays responsive); the
#: page says so and the filters narrow the rest.
MAX_TABLE_ROWS = 2_000

T = TypeVar("T")


@dataclass(frozen=True)
class Source:
    """Where the export is: its path, forced format, content hash and the check configuration."""

    path: Path
    format: str | None
    content_hash: str
    config: Path | None = None


@dataclass(frozen=True)
class PageContext:
    """What a page needs: the source, the reductions, the chosen question and the store."""

    source: Source
    data: DashboardData
    question: str
    config: Config

    @property
    def annotations(self) -> qa.AnnotationSet:
        return self.data.annotations

    def store(self) -> AdjudicationStore:
        return adjudication_store(self.source)


def command_line_source() -> tuple[str | None, str | None, str | None]:
    """``--path``, ``--format`` and ``--config`` given to the app, else the environment."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--path")
    parser.add_argument("--format")
    parser.add_argument("--config")
    args, _ = parser.parse_known_args(sys.argv[1:])
    return (
        args.path or os.environ.get(ENV_PATH),
        args.format or os.environ.get(ENV_FORMAT),
        args.config or os.environ.get(ENV_CONFIG),
    )


#: Content hashes by the files' (name, size, mtime): every click reruns the script, and hashing a
#: 1M-annotation export on each rerun would cost a fraction of a second every time.
_HASHES: dict[tuple, str] = {}


def file_hash(path: Path) -> str:
    """SHA-256 of a file, or of a directory's files (per-annotator exports); read again only
    when a file's size or modification time changes."""
    files = sorted(p for p in path.rglob("*") if p.is_file() and not _is_store_file(p)) if path.is_dir() else [path]
    stats = [file.stat() for file in files]
    signature = (str(path), tuple((str(f), s.st_size, s.st_mtime_ns) for f, s in zip(files, stats, strict=True)))
    if signature in _HASHES:
        return _HASHES[signature]
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode())
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    if len(_HASHES) > 64:
        _HASHES.clear()
    _HASHES[signature] = digest.hexdigest()
    return _HASHES[signature]


def _is_store_file(path: Path) -> bool:
    return ".adjudications.sqlite" in path.name


def config_hash(path: Path | None) -> str:
    return file_hash(path) if path is not None and path.is_file() else ""


@st.cache_resource(show_spinner="Loading the export…", max_entries=4)
def load_cached(
    content_hash: str,
    path: str,
    format: str | None,
    column_map: tuple[tuple[str, str], ...] = (),
    normalize_labels: bool = False,
    question: str | None = None,
) -> qa.AnnotationSet:
    """The loaded export; keyed by content hash, so an edited file is read again."""
    del content_hash  # part of the cache key only
    return qa.load(path, format=format, column_map=dict(column_map) or None,
                   normalize_labels=normalize_labels, question=question)


@st.cache_resource(show_spinner="Computing agreement, disputes and calibration…", max_entries=4)
def dashboard_data(content_hash: str, config_key: str, _annotations: qa.AnnotationSet, _config: Config) -> DashboardData:
    """The cached reductions of one export under one configuration (shared by sessions)."""
    del content_hash, config_key  # the cache key
    return DashboardData(_annotations, _config)


def save_upload(name: str, data: bytes) -> Path:
    """Keep an uploaded export on disk (its adjudications are stored beside it)."""
    digest = hashlib.sha256(data).hexdigest()[:16]
    folder = UPLOAD_DIR / digest
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / Path(name).name
    if not target.exists():
        target.write_bytes(data)
    return target


def read_config(config_path: str | None) -> Config:
    """The configuration ``aqa check`` would read; a clear message when it is invalid."""
    try:
        return load_config(config_path)
    except AQAError as err:
        st.error(f"The check configuration could not be read.\n\n{plain(err)}")
        st.stop()
        raise  # pragma: no cover - st.stop() ends the run


def resolve_source(config: Config, config_path: Path | None) -> Source | None:
    """The export to show: an upload from the sidebar, the command line's, or the configuration's."""
    path, format, _ = command_line_source()
    limit_mb = upload_limit_mb()
    with st.sidebar:
        upload = st.file_uploader(
            f"Open another export (up to {limit_mb} MB)",
            type=["json", "jsonl", "csv", "tsv", "parquet"],
            key="upload",
            help="Label Studio, Prodigy, Doccano, Argilla, MTurk or a long table. It is kept in "
            f"{UPLOAD_DIR} with its adjudications.",
        )
    if upload is not None:
        if upload.size > limit_mb * 1024 * 1024:
            st.error(f"{plain(upload.name)} is {upload.size / 1e6:.1f} MB; the limit is {limit_mb} MB.")
            st.stop()
        saved = save_upload(upload.name, upload.getvalue())
        return Source(saved, None, file_hash(saved), config_path)
    if not path and config.source_path() is not None:
        path = str(config.source_path())
    if not path:
        return None
    source_path = Path(path)
    if not source_path.exists():
        st.error(f"{plain(path)}: no such file or directory")
        st.stop()
    return Source(source_path, format, file_hash(source_path), config_path)


def upload_limit_mb() -> int:
    return int(MAX_UPLOAD_MB if MAX_UPLOAD_MB is not None else st.get_option("server.maxUploadSize"))


def load_source(source: Source, config: Config) -> qa.AnnotationSet:
    """Load, showing a clear message (not a traceback) when the export is malformed."""
    try:
        return load_cached(
            source.content_hash, str(source.path), source.format or config.format,
            tuple(sorted(config.column_map.items())), config.normalize_labels, config.question,
        )
    except AQAError as err:
        message = str(err)
    except Exception as err:  # a parser error the loader did not name: still no traceback
        message = f"{source.path.name}: {type(err).__name__}: {err}"
    # loader messages quote the offending record (a label, an id): shown literally
    st.error(f"This export could not be read.\n\n{plain(message)}")
    st.stop()
    raise AssertionError("unreachable")  # pragma: no cover - st.stop() ends the run


def adjudication_store(source: Source) -> AdjudicationStore:
    return AdjudicationStore(store_path_for(source.path))


def question_picker(annotation_set: qa.AnnotationSet, *, key: str = "question", allow_text: bool = False) -> str:
    """A question selector in the sidebar shared by every page (the choice persists across pages)."""
    questions = annotation_set.questions
    if not allow_text:
        questions = questions[questions["kind"] != "text"]
    names = [str(q) for q in questions["question"]]
    if not names:
        st.warning("This export has no question with labels to compare.")
        st.stop()
    if st.session_state.get(key) not in names:
        st.session_state[key] = names[0]
    return st.sidebar.selectbox("Question", names, key=key)


def prepare() -> PageContext | None:
    """Resolve the source and configuration, load, pick the question; stored for the pages
    under ``aqa_context``. None when there is no export yet."""
    _, _, config_arg = command_line_source()
    config = read_config(config_arg)
    config_path = config.path
    source = resolve_source(config, config_path)
    if source is None:
        st.session_state.pop(CONTEXT_KEY, None)
        return None
    annotations = load_source(source, config)
    data = dashboard_data(source.content_hash, config_hash(config_path) + str(config_path), annotations, config)
    question = question_picker(annotations)
    st.sidebar.caption(f"Export: {plain(source.path.name)}  \n"
                       f"Configuration: {plain(config_path) if config_path else 'defaults (no aqa.toml found)'}")
    context = PageContext(source=source, data=data, question=question, config=config)
    st.session_state[CONTEXT_KEY] = context
    return context


def current() -> PageContext:
    """This run's :class:`PageContext` (set by the app before the page runs)."""
    context = st.session_state.get(CONTEXT_KEY)
    if context is None:
        st.info("Open an export: start `aqa dashboard EXPORT`, or upload one in the sidebar.")
        st.stop()
    return context


def page_header(title: str, question: str | None, filters: dict[str, Any] | None = None) -> None:
    """The page title and a line stating the question and the filters the page shows."""
    st.title(title)
    # names and labels come from the export and st.caption renders Markdown: escape them
    parts = [f"Question: {plain(question)}"] if question else ["All questions"]
    for name, value in (filters or {}).items():
        if isinstance(value, (list, tuple)):
            value = ", ".join(map(str, value)) if value else "all"
        parts.append(f"{name}: {plain(value)}")
    st.caption(" · ".join(parts))


#: Every ASCII punctuation character is backslash-escapable in CommonMark; escaping them all also
#: defuses what the narrower Markdown set misses: Streamlit's ``:red[...]`` / ``:emoji:``
#: directives, GFM autolinks (``http://``, ``www.``) and tables.
_MARKDOWN_ESCAPES = {ord(c): "\\" + c for c in r"""!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~"""}


def plain(text: Any) -> str:
    """Text from the export made safe for Markdown-rendering elements (captions, labels,
    messages): every ASCII punctuation character is backslash-escaped so it shows literally.

    >>> print(plain("**x** <b>"))
    \\*\\*x\\*\\* \\<b\\>
    """
    return str(text).translate(_MARKDOWN_ESCAPES)


def compute(what: str, function: Callable[[], T]) -> T | None:
    """Run a reduction; a metric that does not apply shows a note instead of a traceback."""
    try:
        return function()
    except Exception as err:  # a page must render even when one figure cannot be computed
        # the message may quote a label or an id from the export: shown literally
        st.info(f"{what}: not available for this question. {type(err).__name__}: {plain(err)}")
        return None


def show_table(frame: pd.DataFrame, *, key: str, column_config: dict | None = None, height: int | str = "auto") -> None:
    """A sortable, filterable table (first ``MAX_TABLE_ROWS`` rows; the page says so)."""
    shown = frame.head(MAX_TABLE_ROWS)
    with st.container(key=key):  # the key names the table for tests and for the page's CSS class
        if len(frame) > MAX_TABLE_ROWS:
            st.caption(f"Showing the first {MAX_TABLE_ROWS:,} of {len(frame):,} rows; narrow the filters to see others.")
        st.dataframe(_displayable(shown), hide_index=True, column_config=column_config, height=height)


def _displayable(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns holding tuples, sets or spans become text (Arrow cannot hold them)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = out[column].map(_cell_text)
    return out


def _cell_text(value: Any) -> Any:
    from metrics.disputes import format_label

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (tuple, frozenset, set, list)):
        if all(isinstance(v, str) for v in value):
            return ", ".join(value) if not isinstance(value, (frozenset, set)) else format_label(frozenset(value))
        return format_label(value if not isinstance(value, list) else tuple(value))
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
