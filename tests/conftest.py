"""Shared test fixtures: paths to the shared example exports, real exports and reference values."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import settings

# CI gates a release: its property tests replay the same examples every run (no flaky red);
# developers' runs keep exploring new ones. No deadline: the machine has 2 shared cores.
settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FORMATS = SHARED / "formats"
REAL_EXPORTS = SHARED / "real-exports"
REFERENCE = SHARED / "reference"
SAMPLE_DATA = REPO / "sample_data"


def reference_cases() -> list[dict]:
    """The published agreement values of shared/reference/cases.json."""
    return json.loads((REFERENCE / "cases.json").read_text())


@pytest.fixture
def formats_dir() -> Path:
    return FORMATS


@pytest.fixture
def real_exports_dir() -> Path:
    return REAL_EXPORTS
