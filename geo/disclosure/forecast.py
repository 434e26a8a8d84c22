"""Disclosure policy for the demand forecast's tables (issue 19, DESIGN.md §7).

A projection is an expected value, not a count of children; but a small expected value read
beside the recorded census could point at a handful of children, so forecast tables are treated
as counts: each value is **rounded to whole children** and then goes through the district-table
rules (:func:`geo.disclosure.suppress_table`): 1-5 shown as ``c``, secondary suppression of
``children`` against the authority total of the same quarter (or horizon and kind), and a row
whose ``children`` is hidden hides its interval too. Interval bounds of 1-5 are hidden as well;
bounds are not additive across districts, so no secondary suppression follows from them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from geo.disclosure.suppression import Suppressed, is_small, mark_hidden, suppress_table


def whole_children(values: pd.Series) -> pd.Series:
    """Expected values rounded to whole children (half away from zero; NaN stays NaN)."""
    v = pd.to_numeric(values, errors="coerce").astype(float)
    return pd.Series(np.sign(v) * np.floor(np.abs(v) + 0.5), index=values.index)


def suppress_forecast(
    table: pd.DataFrame,
    *,
    total_code: str,
    by: Sequence[str] = ("quarter_end",),
    counts: Sequence[str] = ("children", "lower_80", "upper_80"),
    base: str = "children",
    additive: Sequence[str] = ("children",),
) -> Suppressed:
    """Disclosure control for a long forecast table: one group of rows per value of ``by``
    (a quarter end; or a horizon and placement kind), each with one row per district and the
    authority total (``district_code == total_code``, the sum of the others in ``base``).

    ``counts`` are rounded to whole children first (:func:`whole_children`); the returned
    ``table`` holds those whole numbers or ``"c"``. ``additive`` counts add up to the total row
    (secondary suppression); others (the bounds of an interval, which do not add up across
    districts) are hidden when 1-5 or when the row's ``base`` is hidden. Index and row order
    are kept.
    """
    rounded = table.copy()
    for c in counts:
        rounded[c] = whole_children(rounded[c])
    if rounded.empty:
        mask = pd.DataFrame(False, index=rounded.index, columns=rounded.columns)
        return Suppressed(table=rounded, mask=mask, primary=mask.copy())
    masks, primaries = [], []
    for _, rows in rounded.groupby(list(by), sort=False):
        keyed = rows.set_index("district_code", drop=False)
        res = suppress_table(
            keyed,
            counts=list(additive),
            total_row=total_code if total_code in keyed.index else None,
            row_base=base,
        )
        mask, primary = res.mask.copy(), res.primary.copy()
        for c in counts:
            if c not in additive:
                small = is_small(keyed[c].to_numpy(float))
                primary[c] = small
                mask[c] = small | mask[base].to_numpy()  # a hidden row hides its interval
        masks.append(mask.set_axis(rows.index, axis=0))
        primaries.append(primary.set_axis(rows.index, axis=0))
    mask = pd.concat(masks).loc[table.index]
    return Suppressed(
        table=mark_hidden(rounded, mask, list(counts)),
        mask=mask,
        primary=pd.concat(primaries).loc[table.index],
    )
