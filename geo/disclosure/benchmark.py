"""Disclosure policy for the authority's own figures on the DfE definitions (the reconciliation
beside the published benchmark): the CLI file, the Benchmark page and the report call it."""

from __future__ import annotations

import pandas as pd

from geo.disclosure.suppression import SUPPRESSED, Suppressed, suppress_table

_DISTANCE_PARTS = ["pct_within_20_miles", "pct_over_20_miles", "pct_not_known"]
_BASE = "children_looked_after"


def suppress_own_measures(own: pd.DataFrame) -> Suppressed:
    """``own`` (``measure, number, denominator, value``, one row per measure, as
    :func:`geo.measures.own_dfe_measures` returns it) with counts of 1 to 5 children and their
    values shown as ``c``. Children looked after = within + over 20 miles + not known, so a
    single hidden part is protected by hiding another; when the number of children itself is
    small, every row is hidden. Row order is kept."""
    keyed = own.set_index("measure", drop=False)
    groups = []
    if _BASE in keyed.index and all(p in keyed.index for p in _DISTANCE_PARTS):
        groups = [(_BASE, _DISTANCE_PARTS)]
    res = suppress_table(keyed, counts=["number"], derived={"value": ["number"]}, row_groups=groups)
    mask = res.mask.copy()
    if _BASE in keyed.index and bool(mask.at[_BASE, "number"]):
        mask.loc[:, ["number", "denominator", "value"]] = True
    table = keyed.copy()
    for col in ("number", "denominator", "value"):
        shown = table[col].astype(object)
        shown[mask[col].to_numpy()] = SUPPRESSED
        table[col] = shown
    return Suppressed(
        table=table.reset_index(drop=True),
        mask=mask.reset_index(drop=True),
        primary=res.primary.reset_index(drop=True),
    )
