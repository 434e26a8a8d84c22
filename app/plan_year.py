"""'Plan for year N' on the Recruitment page (issue 19): the coverage model rebuilt on the
forecast demand of a year end after the census date (:mod:`geo.coverage.forecast_demand`, the
Forecast page's forecast under the default scenario), so the gap panel and the siting search
answer for the children forecast then. Built once per (dataset, year) and cached on the dataset;
the page passes it to :mod:`app.coverage_view` as ``on=`` and keys its counts as their own
cells (:func:`app.protection.cells_for`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from app.coverage_view import coverage_model, require_carers
from app.data.store import DatasetStore
from app.forecast_view import YEARS, Scenario, scenario_forecast

NOW = 0
PLAN_YEARS = tuple(range(1, YEARS + 1))  # the Forecast page's horizon


@dataclass(frozen=True, eq=False)
class YearModel:
    """The coverage model on the forecast demand ``year`` years after the census date."""

    year: int
    year_end: date
    model: Any  # geo.coverage.CoverageModel

    @property
    def tag(self) -> str:
        """Its cache-key tail in :mod:`app.coverage_view`."""
        return f"forecast-year-{self.year}"


def plan_year(value: Any) -> int:
    """The page's "Plan for" value as years ahead (0 = now; anything else unknown is now)."""
    try:
        year = int(value)
    except (TypeError, ValueError):
        return NOW
    return year if year in PLAN_YEARS else NOW


def year_model(store: DatasetStore, dataset_id: str | None, year: int) -> YearModel:
    """The dataset's coverage model on the forecast demand of ``year`` (1 .. YEARS), with
    today's carers, radius and grid (:func:`geo.coverage.forecast_demand.forecast_coverage`)."""
    from geo.coverage.forecast_demand import demand_kinds, forecast_coverage

    if year not in PLAN_YEARS:
        raise ValueError(f"year {year} is not one of the forecast's years {PLAN_YEARS}")
    ds = require_carers(store, dataset_id)
    fc = scenario_forecast(store, ds.id, Scenario())

    def build() -> YearModel:
        kinds = demand_kinds(store.analysis(ds.id))
        (yc,) = forecast_coverage(coverage_model(store, ds.id), kinds, fc, years=(year,))
        return YearModel(year=year, year_end=yc.forecast_demand.year_end, model=yc.model)

    return ds.cached(("plan_year_model", fc.as_at, year), build)


def planning_words(on: YearModel | None) -> str:
    """Which children the page is planning for, in words."""
    if on is None:
        return "Planning for the children in care now."
    return (
        f"Planning for the children forecast at {on.year_end.day} "
        f"{on.year_end:%B %Y} ({on.year} year{'s' if on.year > 1 else ''} after the census "
        "date; the Forecast page's forecast, default scenario): today's children scaled to the "
        "forecast by district, age band and placement kind, with today's carers."
    )


PLAN_OPTIONS = [
    {"label": "Now", "value": str(NOW)},
    *({"label": f"Year {y}", "value": str(y)} for y in PLAN_YEARS),
]
