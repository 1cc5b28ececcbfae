"""Shared test fixtures: paths to the shared example exports, real exports and reference values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

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
