"""Errors raised by ``metrics`` when its input is not what a coefficient can use."""

from __future__ import annotations


class MetricInputError(ValueError):
    """The input table or a parameter is invalid; the message says what was expected."""
