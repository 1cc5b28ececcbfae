"""annotation-qa: loaders, schema, checks, reports and the ``aqa`` command line.

>>> import qa
>>> callable(qa.load)
True
"""

from __future__ import annotations

from qa.errors import AQAError, ConfigError, InputError, UnknownFormatError
from qa.load import available_formats, detect_format, load
from qa.schema import AnnotationSet, LoadReport, QuestionSpec, Span

__all__ = [
    "AQAError",
    "AnnotationSet",
    "ConfigError",
    "InputError",
    "LoadReport",
    "QuestionSpec",
    "Span",
    "UnknownFormatError",
    "available_formats",
    "detect_format",
    "load",
]
