"""Strata coverage: does the data fill every declared cell (e.g. language x intent x difficulty)?

The spec declares cells with a minimum count; the items' metadata columns say which cell each
item falls in. Thresholds: MEASURES.md "Diversity and coverage".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from metrics.balance import VERDICT_COLUMNS, worst_verdict
from metrics.errors import MetricInputError

# MEASURES.md "Diversity and coverage": every required cell at target (fail below 1.0), 90% of
# all declared cells at target (warn below 0.9); cells present but not declared are reported.
REQUIRED_SHARE_FAIL = 1.0
OVERALL_SHARE_WARN = 0.9
UNEXPECTED_CELLS_VERDICT = "warn"
WORST_CELLS = 10
SOURCE = "MEASURES.md: Diversity and coverage"


@dataclass(frozen=True)
class StrataCoverage:
    """How the items fill a declared grid of strata.

    Attributes
    ----------
    columns : the strata columns.
    cells : one row per declared cell: the strata columns, ``count``, ``min_count``,
        ``required``, ``fill`` (count / min_count, NaN when min_count is 0), ``at_target``
        (count >= min_count), ``shortfall`` (items missing to reach the target).
    share_at_target : share of declared cells at target (NaN with no cell).
    required_share_at_target : the same over required cells (NaN when none is required).
    worst_cells : the cells furthest from target (lowest fill first, at most 10).
    unexpected_cells : cells present in the items but not declared, with their ``count``.
    items_outside_spec : items in unexpected cells (or missing a strata value).
    verdicts : tidy table ``check``, ``value``, ``warn_at``, ``fail_at``, ``verdict``, ``source``.
    """

    columns: tuple
    cells: pd.DataFrame
    share_at_target: float
    required_share_at_target: float
    worst_cells: pd.DataFrame
    unexpected_cells: pd.DataFrame
    items_outside_spec: int
    verdicts: pd.DataFrame

    @property
    def verdict(self) -> str:
        """The worst verdict (``fail`` > ``warn`` > ``ok``)."""
        return worst_verdict(self.verdicts["verdict"])


def strata_coverage(
    items: pd.DataFrame,
    spec: Mapping | pd.DataFrame,
    columns: list[str] | tuple[str, ...] | None = None,
) -> StrataCoverage:
    """Fill of each declared stratum cell against its minimum count.

    Parameters
    ----------
    items : one row per item with the strata columns (e.g. ``language``, ``intent``).
    spec : either a DataFrame with the strata columns, ``min_count`` and optionally
        ``required`` (default True), one row per cell; or a mapping cell -> min count, a cell
        being a tuple of values in the order of ``columns`` (a single value for one column).
    columns : the strata columns; required with a mapping spec, inferred from a DataFrame spec.

    Returns
    -------
    StrataCoverage

    Examples
    --------
    >>> items = pd.DataFrame({"language": ["en"] * 40 + ["de"] * 5 + ["fr"] * 2,
    ...                       "intent": ["refund"] * 47})
    >>> spec = {("en", "refund"): 30, ("de", "refund"): 30}
    >>> coverage = strata_coverage(items, spec, columns=["language", "intent"])
    >>> coverage.share_at_target, coverage.verdict
    (0.5, 'fail')
    >>> coverage.unexpected_cells.to_dict(orient="records")
    [{'language': 'fr', 'intent': 'refund', 'count': 2}]
    """
    spec_table, columns = _spec_table(spec, columns)
    missing = [c for c in columns if c not in items.columns]
    if missing:
        raise MetricInputError(f"items lack the strata columns {missing}; they have {list(items.columns)}")
    keys = items[list(columns)].astype(object).where(items[list(columns)].notna(), None)
    keys = keys.map(lambda v: v if v is None else str(v))
    observed = keys.groupby(list(columns), dropna=False).size().rename("count").reset_index()
    cells = spec_table.merge(observed, on=list(columns), how="left")
    cells["count"] = cells["count"].fillna(0).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        cells["fill"] = np.where(cells["min_count"] > 0, cells["count"] / cells["min_count"], np.nan)
    cells["at_target"] = cells["count"] >= cells["min_count"]
    cells["shortfall"] = (cells["min_count"] - cells["count"]).clip(lower=0)
    cells = cells[[*columns, "count", "min_count", "required", "fill", "at_target", "shortfall"]]
    unexpected = observed.merge(spec_table[list(columns)], on=list(columns), how="left", indicator=True)
    unexpected = unexpected[unexpected["_merge"] == "left_only"].drop(columns="_merge").reset_index(drop=True)
    share = float(cells["at_target"].mean()) if len(cells) else math.nan
    required = cells[cells["required"]]
    required_share = float(required["at_target"].mean()) if len(required) else math.nan
    worst = cells.sort_values(["fill", "shortfall"], ascending=[True, False], na_position="last", kind="stable")
    return StrataCoverage(
        columns=tuple(columns), cells=cells, share_at_target=share, required_share_at_target=required_share,
        worst_cells=worst[~worst["at_target"]].head(WORST_CELLS).reset_index(drop=True),
        unexpected_cells=unexpected, items_outside_spec=int(unexpected["count"].sum()),
        verdicts=_coverage_verdicts(share, required_share, len(unexpected)),
    )


def _spec_table(spec: Mapping | pd.DataFrame, columns) -> tuple[pd.DataFrame, list[str]]:
    if isinstance(spec, pd.DataFrame):
        if "min_count" not in spec.columns:
            raise MetricInputError("a DataFrame spec needs a 'min_count' column beside the strata columns")
        inferred = [c for c in spec.columns if c not in ("min_count", "required")]
        columns = list(columns) if columns is not None else inferred
        table = spec[[*columns, "min_count"]].copy()
        table["required"] = spec["required"].astype(bool) if "required" in spec.columns else True
    else:
        if columns is None:
            raise MetricInputError("a mapping spec needs columns=[...] naming the strata columns of its cells")
        columns = list(columns)
        rows = []
        for cell, min_count in spec.items():
            values = cell if isinstance(cell, tuple) else (cell,)
            if len(values) != len(columns):
                raise MetricInputError(f"spec cell {cell!r} has {len(values)} values; columns are {columns}")
            rows.append({**dict(zip(columns, values, strict=True)), "min_count": min_count, "required": True})
        table = pd.DataFrame(rows, columns=[*columns, "min_count", "required"])
    for column in columns:
        table[column] = table[column].map(lambda v: None if pd.isna(v) else str(v)).astype(object)
    table["min_count"] = pd.to_numeric(table["min_count"]).astype(np.int64)
    if table.duplicated(columns).any():
        raise MetricInputError(f"the spec declares some cells twice: {table[table.duplicated(columns)][columns].to_dict('records')}")
    return table.reset_index(drop=True), columns


def _coverage_verdicts(share: float, required_share: float, unexpected: int) -> pd.DataFrame:
    def below(value: float, threshold: float, verdict: str) -> str:
        return verdict if not math.isnan(value) and value < threshold else "ok"

    rows = [
        {"check": "required_share_at_target", "value": required_share, "warn_at": math.nan,
         "fail_at": REQUIRED_SHARE_FAIL, "verdict": below(required_share, REQUIRED_SHARE_FAIL, "fail"), "source": SOURCE},
        {"check": "share_at_target", "value": share, "warn_at": OVERALL_SHARE_WARN, "fail_at": math.nan,
         "verdict": below(share, OVERALL_SHARE_WARN, "warn"), "source": SOURCE},
        {"check": "unexpected_cells", "value": float(unexpected), "warn_at": 0.0, "fail_at": math.nan,
         "verdict": UNEXPECTED_CELLS_VERDICT if unexpected else "ok", "source": SOURCE},
    ]
    return pd.DataFrame(rows, columns=VERDICT_COLUMNS)
