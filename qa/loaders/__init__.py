"""One module per export format. Each module defines:

- ``NAME``: the format's name (``--format NAME``);
- ``sniff(path: Path, head: str) -> bool``: whether the content (``head``: the first 64 KiB of the
  file, or of the first file of a directory, decoded as UTF-8 with replacement) looks like this
  format. Detection reads content, not only the extension;
- ``load(path: Path, options: LoadOptions) -> AnnotationSet``.

``FORMATS`` lists them in detection order: the most specific first.
"""

from __future__ import annotations

import importlib
from types import ModuleType

FORMAT_MODULES = (
    "label_studio",
    "argilla",
    "prodigy",
    "doccano",
    "mturk",
    "long_table",
)


def format_modules() -> dict[str, ModuleType]:
    """Format name -> loader module, in detection order (modules not yet written are left out)."""
    modules = {}
    for module_name in FORMAT_MODULES:
        try:
            module = importlib.import_module(f"qa.loaders.{module_name}")
        except ModuleNotFoundError as err:
            if err.name == f"qa.loaders.{module_name}":
                continue
            raise
        modules[module.NAME] = module
    return modules
