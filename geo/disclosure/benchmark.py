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


def protect_own_measures(own: pd.DataFrame, *, secret: bytes, year: int) -> Suppressed:
    """``own`` (as :func:`suppress_own_measures` takes it) by the cell-key method, as every
    other page: each count keyed by its definition ("own-dfe", year, measure), the children
    looked after as the base of the percentages, every value worked out again from the shown
    counts (rates per 10,000 over the published population, which is not protected). ``c``
    where a count is hidden (0 to 6) or its base is."""
    from geo.disclosure.cellkey import protect_count

    keyed = own.set_index("measure", drop=False).copy()
    # the children looked after per 10,000 count the same children as the base: one cell
    same = {"cla_per_10000": _BASE}
    shown = {
        str(m): protect_count(float(n), secret=secret, cell=("own-dfe", year, same.get(str(m), m)))
        for m, n in zip(keyed.index, keyed["number"].to_numpy(dtype=float), strict=True)
    }
    base_true = (
        float(keyed["number"].to_numpy(dtype=float)[list(keyed.index).index(_BASE)])
        if _BASE in keyed.index
        else float("nan")
    )
    base = shown.get(_BASE, float("nan"))
    mask = pd.DataFrame(False, index=keyed.index, columns=keyed.columns)
    numbers, denominators, values = [], [], []
    for m, row in keyed.iterrows():
        n = shown[str(m)]
        denom = float(row["denominator"]) if pd.notna(row["denominator"]) else float("nan")
        if m == _BASE:
            d, v = float("nan"), n
        elif denom == base_true:  # a share of the children looked after
            d = base
            v = round(100 * n / d, 1) if n == n and d == d and d > 0 else float("nan")
        else:  # a rate over the published population
            d = denom
            v = round(10000 * n / d, 1) if n == n and d == d and d > 0 else float("nan")
        mask.at[m, "number"] = n != n
        mask.at[m, "denominator"] = d != d and pd.notna(row["denominator"])
        mask.at[m, "value"] = v != v
        numbers.append(SUPPRESSED if n != n else int(n))
        denominators.append(
            SUPPRESSED if mask.at[m, "denominator"] else row["denominator"] if d != d else int(d)
        )
        values.append(SUPPRESSED if v != v else v)
    table = keyed.copy()
    table["number"] = pd.Series(numbers, index=keyed.index, dtype=object)
    table["denominator"] = pd.Series(denominators, index=keyed.index, dtype=object)
    table["value"] = pd.Series(values, index=keyed.index, dtype=object)
    return Suppressed(
        table=table.reset_index(drop=True),
        mask=mask.reset_index(drop=True),
        primary=mask.reset_index(drop=True),
    )
