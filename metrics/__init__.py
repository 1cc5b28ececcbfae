"""annotation-qa metrics: pure computation on long annotation tables.

Every public function takes a long DataFrame (``item_id``, ``annotator_id``, ``label``) of one
question and returns a frozen dataclass or a tidy DataFrame. No file I/O, no printing, no UI.
"""

from __future__ import annotations

from metrics.errors import MetricInputError
from metrics.result import AgreementResult

__all__ = ["AgreementResult", "MetricInputError"]
