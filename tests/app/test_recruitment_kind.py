"""Recruitment planning and carer coverage without a browser: the form is checked (never a
silent substitute), clicks on stars and diamonds land on their square, the list is ordered by
gain and numbered like the stars, the plan is in "Gap after", and for a user who may not see
small numbers the coverage list says c and the colour bar names bands, not exact counts."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from dash import no_update

from app.coverage_areas import COUNT_BANDS, colour_axis, count_band
from app.recruitment_map import clicked_square
from app.recruitment_view import check_inputs, what_if_kind

pytestmark = pytest.mark.xdist_group("app-demo")


def test_check_inputs_says_what_is_wrong_and_assumes_nothing():
    bad = check_inputs(0, 9, [])
    assert not bad.ok and bad.households is None and bad.places is None
    text = " ".join(bad.problems)
    assert "0 is not a number of households" in text
    assert "9 is not a number of places" in text
    assert "nothing is ticked" in text
    assert check_inputs(None, 2, ["0-4"]).problems[0].startswith("Enter how many new households")
    assert "no age band" in " ".join(check_inputs(3, 2, ["disability"]).problems)
    assert "2.5" in " ".join(check_inputs(2.5, 2, ["0-4"]).problems)
    good = check_inputs(10, 2, ["disability", "16+", "0-4"])
    assert good.ok and (good.households, good.places) == (10, 2)
    assert good.categories == "0-4;16+;disability"  # canonical: one cache key per kind
    assert good.as_store()["problems"] == []


def test_what_if_households_say_what_they_assume():
    assert what_if_kind(2, ["11-15", "disability"]) == (2, "11-15;disability", [])
    each, cats, notes = what_if_kind(9, [])
    assert (each, cats) == (1, "0-4;5-10;11-15;16+") and len(notes) == 2


def body_rows(component) -> list[list]:
    """The cells of every body row (a ``Tr`` of ``Td``s) in a Dash component tree."""
    out = []

    def walk(c):
        kids = getattr(c, "children", None)
        if type(c).__name__ == "Tr" and all(type(k).__name__ == "Td" for k in kids or []):
            out.append([k.children for k in kids])
            return
        for k in kids if isinstance(kids, list) else [kids]:
            if k is not None and not isinstance(k, str | int | float):
                walk(k)

    walk(component)
    return out


def is_square(v):
    return isinstance(v, str) and "_" in v


def test_a_click_on_a_star_or_a_diamond_lands_on_its_square():
    square = {"points": [{"location": "575000_155000"}]}
    star = {"points": [{"lon": 0.3, "lat": 51.3, "customdata": "555000_160000", "text": "1"}]}
    wrapped = {"points": [{"customdata": ["555000_160000"]}]}
    outline = {"points": [{"location": "E07000110"}]}
    assert clicked_square(square, is_square) == "575000_155000"
    assert clicked_square(star, is_square) == "555000_160000"
    assert clicked_square(wrapped, is_square) == "555000_160000"
    assert clicked_square(outline, is_square) is None
    assert clicked_square(None, is_square) is None


def test_count_bands_for_the_colour_bar():
    assert count_band(np.array([0, 1, 5, 6, 10, 11, 20, 21, 300, np.nan]))[:9].tolist() == [
        0,
        1,
        1,
        2,
        2,
        3,
        3,
        4,
        4,
    ]
    assert colour_axis("places_per_child_2sfca", exact=False) is None
    assert colour_axis("children_at_risk", exact=True) is None
    axis = colour_axis("children_at_risk", exact=False)
    assert axis["colorbar"]["ticktext"] == [b[2] for b in COUNT_BANDS]
    assert axis["colorbar"]["ticktext"][1] == "c"


@pytest.fixture(scope="module")
def app(app_cache_dir, tmp_path_factory):
    from app.main import create_app
    from app.settings import Settings

    state = tmp_path_factory.mktemp("state")
    return create_app(
        Settings(
            cache_dir=app_cache_dir,
            upload_dir=state / "uploads",
            extra={"users_file": str(state / "users.json"), "local_token": "kind-token"},
        )
    )


def test_demo_plan_is_ordered_numbered_and_in_gap_after(app):
    """On the demo (gap 12, all disabled children): households for ages only close nothing
    and the page says why; with disability ticked the list is numbered like the stars, each
    star carries its square, and "After the plan" shows the plan's district gaps (0)."""
    from app.pages.recruitment import apply_click, update_recruitment

    with app.server.app_context():  # nobody signed in: small numbers hidden
        ages = update_recruitment(None, None, [], 10, 2, ["0-4", "5-10", "11-15", "16+"])
        text = str(ages[1])
        assert re.search(r"cannot take disabled children \(gap (c|\d+) of (c|\d+)\)", text)
        assert "Suggested kind: households approved for any age and disabled children" in str(
            ages[9]
        )
        cats = ["0-4", "5-10", "11-15", "16+", "disability"]
        fig, suggestions, districts, alert, *_rest, gap, kinds = update_recruitment(
            None, None, [], 10, 2, cats
        )
        assert alert is None
        stars = next(t for t in fig.data if (t.name or "").startswith("Suggested"))
        rows = body_rows(suggestions)
        numbers = [str(r[0]) for r in rows]
        assert numbers == [str(i) for i in range(1, len(rows) + 1)] and len(rows) > 1
        assert [str(t) for t in stars.text] == numbers
        assert all("\u00a0" in r[1] for r in rows)  # sector codes on one line
        assert all(is_square(c) for c in stars.customdata)
        # the sectors are not listed alphabetically (the old tie-break)
        sectors = [r[1] for r in rows]
        assert sectors != sorted(sectors)
        assert "After the plan" in str(districts)
        kent = next(r for r in body_rows(districts) if r[0] == "Kent total")
        # now (12, protected: within 2), after the plan, after the plan and edits (0 or c)
        assert abs(int(kent[2]) - 12) <= 2 and all(v in ("0", "c") for v in kent[3:5])
        # clicking the first star adds a household in its square
        click = {"points": [{"customdata": stars.customdata[0]}]}
        edits = apply_click(click, [], "add", 2, cats)
        assert edits is not no_update and edits[0]["cell"] == stars.customdata[0]
        # the gap before anything is asked, with the disabled children's row
        assert "Disabled children" in str(gap) and "rc-gap-areas" in str(gap)
        # a commissioner's coverage page: c in the list, bands on the colour bar
        from app.pages.coverage import update_coverage, update_ranking

        fig, _kpis, cohorts, areas, alert, _table, _status, _key = update_coverage(
            None, "children_at_risk"
        )
        ranking = update_ranking(None, "all", "all")
    assert alert is None
    at_risk = [r[3] for r in body_rows(ranking)]
    assert "c" in at_risk and not {"1", "2", "3", "4", "5", "1–5"} & set(at_risk)
    squares = next(t for t in fig.data if t.name == "Children at risk")
    assert list(squares.colorbar.ticktext) == [b[2] for b in COUNT_BANDS]
    assert set(pd.Series(squares.z).dropna().astype(int)) <= set(range(len(COUNT_BANDS)))
    assert [o["value"] for o in cohorts] == ["all", "disabled", "adolescents_11_plus"]
    assert "West Kent" in [o["value"] for o in areas]
