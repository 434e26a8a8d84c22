"""One disclosure policy per kind of table: every output of that table calls it.

* :func:`suppress_district_table` — districts (+ outside + the authority total) of the placement
  measure: the Compliance map, the District comparison page, the report's district table and
  each quarter of the trend all hide the same cells for the same data.
* :func:`suppress_trend` — the quarterly trend: each quarter through the district-table policy,
  so the trend's last quarter hides what the as-at table hides.
* Coverage tables: :func:`geo.disclosure.coverage.suppress_coverage`; one column of counts
  against its total (the coverage gap by district): :func:`suppress_counts`.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import pandas as pd

from geo.disclosure.suppression import Suppressed, suppress_table

# Counts of children a district table may carry, in the order the measure defines them.
DISTRICT_COUNTS = ("children", "known", "within_20", "within_10", "not_known")


def suppress_district_table(
    table: pd.DataFrame,
    *,
    total_row: Hashable,
    extra_counts: Sequence[str] = (),
    column_groups: Sequence[tuple[str, Sequence[str]]] = (),
) -> Suppressed:
    """Disclosure control for a district table of the placement measure.

    ``table`` has one row per district, the outside/not-known row and the authority total
    (``total_row``, the sum of the others), with whichever of :data:`DISTRICT_COUNTS`,
    ``pct_within_20``/``pct_within_10`` (of children with a known distance), their ``*_all``
    forms (of all children) and ``median_miles`` it carries. ``extra_counts`` are further counts
    of children (placement kinds, the coverage gap); ``column_groups`` their additive relations
    (e.g. ``("children", kinds)``). A district whose ``children`` is hidden has every count hidden (row base).
    """
    cols = set(table.columns)
    counts = [c for c in DISTRICT_COUNTS if c in cols] + [c for c in extra_counts if c in cols]
    derived: dict[str, list[str]] = {}
    for t in (20, 10):
        for pct, base in ((f"pct_within_{t}", "known"), (f"pct_within_{t}_all", "children")):
            if pct in cols:
                sources = [c for c in (f"within_{t}", base) if c in cols]
                derived[pct] = sources or ["children"]
    if "median_miles" in cols:
        derived["median_miles"] = ["known" if "known" in cols else "children"]
    groups = [(total, [p for p in parts if p in cols]) for total, parts in column_groups]
    # children = known + not_known is not declared: with it, a small authority-wide not-known
    # count would hide the headline percentage. That relation is left to the cross-view work
    # (differencing), which must weigh it against the headline.
    return suppress_table(
        table,
        counts=counts,
        derived=derived,
        total_row=total_row,
        column_groups=groups,
        row_base="children",
    )


def suppress_trend(table: pd.DataFrame, *, total_code: str) -> Suppressed:
    """The long trend table (``quarter_end``, ``district_code``, counts, percentages) with each
    quarter's rows through :func:`suppress_district_table`; ``total_code`` labels the authority
    total row of every quarter. Index and row order are kept."""
    if table.empty:
        mask = pd.DataFrame(False, index=table.index, columns=table.columns)
        return Suppressed(table=table.copy(), mask=mask, primary=mask.copy())
    tables: list[pd.DataFrame] = []
    masks: list[pd.DataFrame] = []
    primaries: list[pd.DataFrame] = []
    for _, rows in table.groupby("quarter_end", sort=False):
        keyed = rows.set_index("district_code", drop=False)
        res = suppress_district_table(keyed, total_row=total_code)
        for out, part in ((tables, res.table), (masks, res.mask), (primaries, res.primary)):
            out.append(part.set_axis(rows.index, axis=0))
    return Suppressed(
        table=pd.concat(tables).loc[table.index],
        mask=pd.concat(masks).loc[table.index],
        primary=pd.concat(primaries).loc[table.index],
    )
