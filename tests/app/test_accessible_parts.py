"""The accessibility building blocks, without a browser: readable label colours, grid references
that name a square, the squares' table that never shows an exact count of 1-5 (c)."""

from __future__ import annotations

import pandas as pd
import pytest

from app.components import graph_figure, grid_reference
from app.coverage_areas import square_figures, square_table
from app.figures import contrast_ratio, readable_on
from app.style import BANDS, CONTEXT_FILL, NO_DATA


@pytest.mark.parametrize("colour", [c for _k, c, _l in [*BANDS, NO_DATA]] + [CONTEXT_FILL])
def test_labels_on_every_band_colour_pass_4_5_to_1(colour):
    assert contrast_ratio(readable_on(colour), colour) >= 4.5


def test_contrast_ratio_matches_wcag_examples():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


def test_grid_reference_names_the_south_west_corner():
    assert grid_reference("530000_180000") == "TQ 30 80"  # Trafalgar Square's square
    assert grid_reference("600000_140000") == "TR 00 40"
    assert grid_reference("555000_160000") == "TQ 55 60"
    assert grid_reference("not-a-cell") == "not-a-cell"


def _grid() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "area_id": ["555000_160000", "560000_160000", "565000_160000"],
            "district_name": ["Maidstone", "Maidstone", None],
            "children": [3.0, 40.0, 6.0],
            "carers": [0.0, 12.0, 5.0],
            "places_per_child_2sfca": [0.5, 1.25, float("nan")],
            "children_at_risk": [2.0, 0.0, 7.0],
            "places_per_child_e2sfca": [0.4, 1.1, 0.9],
            "value": [3.0, 0.0, 7.0],  # at risk as drawn: 1-5 drawn as 3
        }
    )


def test_square_figures_show_small_counts_as_c_never_exactly():
    text = square_figures(_grid(), "children_at_risk", exact=False)
    # the cell-key method: 1-5 always c, c stands for 0-6, other counts within 2
    children, at_risk = list(text["Children"]), list(text["Children at risk"])
    assert children[0] == "c" and abs(int(children[1]) - 40) <= 2 and children[2] in "c78"
    assert at_risk[0] == "c" and at_risk[1] in ("0", "c") and at_risk[2] in "c6789"
    assert list(text["Households"]) == ["0", "12", "c"]
    # ratios over the protected count of children: c where that count is c
    ratios = list(text["Places per child (2SFCA)"])
    assert ratios[0] == "c" and ratios[2] == "no children"
    assert abs(float(ratios[1]) - 1.25) <= 1.25 * 2 / 38 + 0.05
    assert text["District"].iloc[2] == "outside the districts"
    # a measure not among the standard columns gets its own
    assert (
        "Places per child"
        in square_figures(_grid(), "places_per_child_e2sfca", exact=False).columns
    )


def test_square_table_orders_by_the_drawn_value_and_is_a_named_region():
    box = square_table(_grid(), "children_at_risk", table_id="t", exact=False)
    assert box.role == "region" and box.tabIndex == "0"
    rows = box.children.children[2].children  # caption, head, body
    assert [r.children[0].children for r in rows] == ["TQ 65 60", "TQ 55 60", "TQ 60 60"]
    text = str(box)
    for exact in ("'2'", "'3'", "'5'"):
        assert exact not in text


def test_graph_figure_has_a_name_and_a_show_as_table():
    fig = graph_figure("graph", name="Map of something", table_id="tbl")
    assert fig.to_plotly_json()["props"]["aria-label"] == "Map of something"
    assert "Show as table" in str(fig) and "'tbl'" in str(fig)
