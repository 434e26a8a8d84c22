"""The 5 km squares of the coverage and recruitment maps as a person sees them: the measures a
map can show, the value each square is coloured by, its hover text and its table equivalent.

Counts of children (and of households) follow the disclosure used on every other page: exact
for a user who may see small numbers (:func:`app.views.exact_counts_allowed`), otherwise 1-5
shown as ``c`` (:func:`app.components.fmt_children`) and the colours banded, so neither the
list, the hover, the table nor the colour bar gives a small count away.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from dash import html

from app.components import data_table, fmt_children, grid_reference

# Carer coverage measures the maps can show: (title, short label, count|ratio, colour scale).
COVERAGE_MEASURES = {
    "children_at_risk": (
        "Children who may not get a suitable place within 20 miles",
        "Children at risk",
        "count",
        "Oranges",
    ),
    "places_per_child_2sfca": (
        "Places per child within 20 miles (2SFCA)",
        "Places per child",
        "ratio",
        "Blues",
    ),
    "places_per_child_e2sfca": (
        "Places per child, distance-weighted (E2SFCA)",
        "Places per child",
        "ratio",
        "Blues",
    ),
    "vacant_suitable_places_per_child": (
        "Vacant suitable places within 20 miles per child",
        "Vacant places per child",
        "ratio",
        "Blues",
    ),
    "children": ("Children in care from each area", "Children", "count", "Purples"),
    "carers": ("Approved fostering households in each area", "Households", "count", "Greens"),
}

# disclosure: for a user who may not see small numbers, a count is coloured by its band, never
# by its value: the bands' edges are the published convention (1-5 is c), so the colour bar
# says no more than the list. (lowest, highest, label)
COUNT_BANDS = ((0, 0, "0"), (1, 5, "c"), (6, 10, "6–10"), (11, 20, "11–20"), (21, np.inf, "21+"))


def count_band(values: np.ndarray) -> np.ndarray:
    """Index into :data:`COUNT_BANDS` of each count (NaN stays NaN)."""
    v = np.asarray(values, dtype=float)
    out = np.full(len(v), np.nan)
    for i, (lo, hi, _label) in enumerate(COUNT_BANDS):
        out[(v >= lo) & (v <= hi)] = i
    return out


def count_text(value: Any, *, exact: bool, cell: tuple[Any, ...] | None = None) -> str:
    """A count of children or households as shown: exact for ``exact``; otherwise by the
    cell-key method under the definition ``cell`` (c for 0-6), or 1-5 as c; – unknown."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "–"
    return fmt_children(v, exact=exact, cell=cell) if np.isfinite(v) else "–"


def _protected_ratio(ratio: float, children: float, *, exact: bool, cell: tuple[Any, ...]) -> str:
    """A ratio per child as shown: for a user who may not see exact numbers, over the
    protected count of children (so it cannot be divided back into the true count), c where
    that count is c."""
    if exact or not np.isfinite(ratio) or not children:
        return ratio_text(ratio)
    from app.protection import protected_value

    shown = protected_value(children, cell)
    if not np.isfinite(shown) or shown <= 0:
        return "c"
    return f"{ratio * children / shown:.1f}"


def sector_text(sector: Any) -> str:
    """A postcode sector that never breaks across lines ("DA13 0", not "DA13 / 0")."""
    return str(sector).replace(" ", "\u00a0")


def area_layer(
    res: Any, measure: str, *, exact: bool, every_square: bool = False
) -> tuple[pd.DataFrame, pd.Series]:
    """Grid cells with the value they are coloured by (``value``) and their hover text.

    Children-based measures only where children come from; households where carers live.
    With ``every_square``, the cells are every square with children or households (the same
    cells, hover and order whatever the measure, so a change of measure sends only colours),
    ``value`` NaN (not drawn) where the measure does not apply. A count measure is coloured by
    its value when ``exact``, otherwise by its band.
    """
    grid = res.areas[res.areas["area_type"].str.startswith("grid")].copy()
    _title, _label, kind, _scale = COVERAGE_MEASURES[measure]
    applies = (grid["carers"] > 0) if measure == "carers" else (grid["children"] > 0)
    grid = grid[(grid["carers"] > 0) | (grid["children"] > 0)] if every_square else grid[applies]
    applies = applies[grid.index]
    values = np.where(applies.to_numpy(), grid[measure].to_numpy(dtype=float), np.nan)
    if kind == "ratio" or exact:
        grid["value"] = values
    elif measure == "carers":  # supply, shown exactly
        grid["value"] = count_band(values)
    else:  # the band of the protected count (c is its own band), never of the true one
        from app.protection import protected_value

        shown = np.array(
            [
                protected_value(v, ("square", a, measure)) if np.isfinite(v) else np.nan
                for v, a in zip(values, grid["area_id"], strict=True)
            ]
        )
        grid["value"] = np.where(np.isfinite(values) & ~np.isfinite(shown), 1.0, count_band(shown))
    text = square_figures(grid, measure, exact=exact)
    hover = []
    for (_i, row), children in zip(text.iterrows(), grid["children"], strict=True):
        head = f"<b>5 km square {row['Square']}, {row['District']}</b>"
        households = f"Fostering households here: {row['Households']}"
        if not children:
            hover.append(f"{head}<br>No children in care come from here<br>{households}")
            continue
        lines = [
            head,
            f"Children from here: {row['Children']}",
            households,
            f"Places per child (2SFCA): {row['Places per child (2SFCA)']}",
            f"Children who may go without a suitable place: {row['Children at risk']}",
        ]
        hover.append("<br>".join(lines))
    return grid, pd.Series(hover, index=grid.index)


def colour_axis(measure: str, *, exact: bool) -> dict[str, Any] | None:
    """Trace settings that colour a banded count measure by band (steps of the measure's
    scale), with the bands named on the colour bar; None when the value itself is drawn
    (ratios, or counts for a user who may see them)."""
    from plotly.colors import sample_colorscale

    _title, label, kind, scale_name = COVERAGE_MEASURES[measure]
    if kind == "ratio" or exact:
        return None
    n = len(COUNT_BANDS)
    scale = []
    for i, colour in enumerate(sample_colorscale(scale_name, list(np.linspace(0.08, 1.0, n)))):
        scale += [[i / n, colour], [(i + 1) / n, colour]]
    return {
        "colorscale": scale,
        "zmin": -0.5,
        "zmax": n - 0.5,
        "colorbar": {
            "tickvals": list(range(n)),
            "ticktext": [b[2] for b in COUNT_BANDS],
            "title": {"text": label.replace(" ", "<br>", 1), "side": "bottom"},
            "thickness": 14,
            "len": 0.7,
        },
    }


def square_figures(grid: pd.DataFrame, measure: str | None, *, exact: bool) -> pd.DataFrame:
    """The 5 km squares' figures as the page shows them (hover and "Show as table" alike):
    counts as :func:`count_text` gives them; ratios to two decimals, "no children" where no
    child comes from the square. The columns of every map measure with ``measure`` None, else
    the common ones and ``measure``'s."""
    columns = {
        "Square": [grid_reference(str(c)) for c in grid["area_id"]],
        "District": [
            "outside the districts" if pd.isna(d) or not d else str(d)
            for d in grid["district_name"]
        ],
        "Children": [
            count_text(v, exact=exact, cell=("square", a, "children"))
            for v, a in zip(grid["children"], grid["area_id"], strict=True)
        ],
        "Households": [count_text(v, exact=exact) for v in grid["carers"]],  # supply: shown
        "Places per child (2SFCA)": [
            _protected_ratio(r, n, exact=exact, cell=("square", a, "children"))
            for r, n, a in zip(
                grid["places_per_child_2sfca"], grid["children"], grid["area_id"], strict=True
            )
        ],
        "Children at risk": [
            count_text(v, exact=exact, cell=("square", a, "children_at_risk"))
            for v, a in zip(grid["children_at_risk"], grid["area_id"], strict=True)
        ],
    }
    for extra in COVERAGE_MEASURES if measure is None else [measure]:
        if extra in ("children", "carers", "children_at_risk", "places_per_child_2sfca"):
            continue
        _title, label, kind, _scale = COVERAGE_MEASURES[extra]
        if measure is None and extra.endswith("e2sfca"):
            label = f"{label} (E2SFCA)"
        columns[label] = [
            count_text(v, exact=exact, cell=("square", a, extra))
            if kind == "count"
            else _protected_ratio(v, n, exact=exact, cell=("square", a, "children"))
            for v, n, a in zip(grid[extra], grid["children"], grid["area_id"], strict=True)
        ]
    return pd.DataFrame(columns, index=grid.index)


def ratio_text(value: Any) -> str:
    """A ratio per child to two decimals; "no children" where there are none (NaN)."""
    v = float(value)
    return f"{v:.2f}" if np.isfinite(v) else "no children"


def square_table(grid: pd.DataFrame, measure: str | None, *, table_id: str, exact: bool) -> Any:
    """The squares behind a map as a table: most first by the drawn value (a band, for a user
    who may not see small numbers, so the order gives nothing away), then grid reference.
    ``measure`` None: the figures of every measure (a table that a change of measure need not
    resend)."""
    text = square_figures(grid, measure, exact=exact)
    order = grid.assign(_ref=text["Square"]).sort_values(
        ["value", "_ref"], ascending=[False, True], kind="stable"
    )
    text = text.loc[order.index]
    rows = [
        html.Tr([html.Td(v, className="num" if i >= 2 else None) for i, v in enumerate(row)])
        for row in text.itertuples(index=False)
    ]
    hidden = "" if exact else "; c: 0 to 6 children, not shown; other counts within 2"
    return data_table(
        list(text.columns),
        rows,
        numeric_from=2,
        empty="No squares to show.",
        caption=f"{len(rows)} 5 km squares (grid reference of the south-west corner){hidden}.",
        id=table_id,
    )
