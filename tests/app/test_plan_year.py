"""'Plan for year N' on Recruitment planning (issue 19): with year 1 chosen, the gap panel and
the search run on the forecast demand of the first year end after the census date, the page
says so in words, and the gap is the one geo.coverage.forecast_demand gives for that year."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.xdist_group("app-demo")


@pytest.fixture(scope="module")
def app(app_cache_dir, tmp_path_factory):
    from app.main import create_app
    from app.settings import Settings

    state = tmp_path_factory.mktemp("state")
    return create_app(
        Settings(
            cache_dir=app_cache_dir,
            upload_dir=state / "uploads",
            extra={"users_file": str(state / "users.json"), "local_token": "year-token"},
        )
    )


def test_plan_for_year_one_uses_the_forecast_demand(app):
    from app.coverage_view import coverage_model
    from app.data.state import store
    from app.forecast_view import Scenario, scenario_forecast
    from app.pages.recruitment import update_recruitment
    from app.plan_year import planning_words, year_model
    from geo.coverage.forecast_demand import demand_kinds, forecast_coverage

    cats = ["0-4", "5-10", "11-15", "16+", "disability"]
    run = {"households": 10, "places": 2, "categories": cats, "year": 1}
    with app.server.app_context():  # nobody signed in: small numbers protected
        out = update_recruitment(None, run, [], None, None, None)
        s = store()
        ds = s.get(None)
        fc = scenario_forecast(s, ds.id, Scenario())
        kinds = demand_kinds(s.analysis(ds.id))
        (truth,) = forecast_coverage(coverage_model(s, ds.id), kinds, fc, years=(1,))
        on = year_model(s, None, 1)
    fig, suggestions, _districts, alert, *_rest, status, gap, kinds_out = out
    assert alert is None and kinds_out is None  # the kinds compared are today's: not shown
    end = truth.forecast_demand.year_end
    assert on.year_end == end and on.model.gap == truth.gap
    words = f"Planning for the children forecast at {end.day} {end:%B %Y}"
    assert words in planning_words(on) and words in str(gap) and status.startswith(words)
    shown = re.search(r"Gap (c|\d+) children\.", str(gap))
    assert shown, str(gap)
    # the cell-key method: c for 0-6, any other count within 2 of the forecast gap
    assert (shown.group(1) == "c" and truth.gap <= 6) or abs(int(shown.group(1)) - truth.gap) <= 2
    assert "Suggested areas for 10 new household(s)" in str(suggestions)
    assert str(end) in fig.layout.title.text


def test_now_is_today(app):
    """ "Now" (year 0, or a search stored before the choice existed) is today's page."""
    from app.pages.recruitment import update_recruitment

    cats = ["0-4", "5-10", "11-15", "16+", "disability"]
    with app.server.app_context():
        old = update_recruitment(None, None, [], 10, 2, cats)
        now = update_recruitment(
            None, {"households": 10, "places": 2, "categories": cats, "year": "0"}, [], 1, 1, []
        )
    assert str(old[8]) == str(now[8]) and str(old[1]) == str(now[1])
    assert "Planning for" not in str(now[8])
