"""Case 9: the demand forecast (issue 19) on the Kent demo (Kent's 12 districts) and on the
national demo (England's 153 children's services authorities).

Project: ``placemap forecast``'s work without the file writing: the quarterly censuses of the
history (:func:`geo.measures.forecast.state_history`), the 4-year projection with its 80 %
interval from 1,000 simulated paths (:func:`geo.measures.forecast.forecast`) and the backtest
(:func:`geo.measures.forecast_backtest.backtest`), each timed. Baseline, in the same run: the
naive persistence forecast (the as-at census by area, carried forward), which needs one census
and no rates. Beside the timings, what the extra work buys: the backtest's mean absolute error
by area of the model, persistence and a linear trend.
"""

from __future__ import annotations

from typing import Any

from benchmarks.inputs import Scale
from benchmarks.timing import CaseResult, Row, Table, median, seconds
from geo.measures import area_of
from geo.measures.forecast import forecast, state_history
from geo.measures.forecast_backtest import backtest
from geo.spatial.authority import Authority
from geo.ssda903 import Cohort, read_placements, take_census

YEARS = 4
DRAWS = 1000


def _persistence(data: Any, authority: Authority, scale: Scale) -> dict[str, int]:
    """The naive forecast: children of the headline cohort by home area at the as-at date."""
    from geo.spatial import postcodes as pc

    c = take_census(data, as_at=scale.as_at).children
    c = c[c["cohort"] == Cohort.INCLUDED.value]
    looked = pc.lookup(c["HOME_POST"].astype("string"))
    frame = c.assign(
        HOME_POST=looked.postcode.to_numpy(), home_district_code=looked.district_code.to_numpy()
    )
    return area_of(frame, authority, by="home").value_counts().to_dict()


def _one(
    scale: Scale, authority: Authority, *, runs: int
) -> tuple[Row, Row, list[Any], dict[str, tuple[bool, str]]]:
    files = scale.files
    data = read_placements(files["episodes"], header=files["header"], uasc=files["uasc"])
    history_runs, forecast_runs, backtest_runs, baseline_runs = [], [], [], []
    fc = summary = persist = None
    for _ in range(runs):
        t, history = seconds(lambda: state_history(data, authority, as_at=scale.as_at))
        history_runs.append(t)
        t, fc = seconds(
            lambda h=history: forecast(
                data, authority, as_at=scale.as_at, years=YEARS, draws=DRAWS, history=h
            )
        )
        forecast_runs.append(t)
        t, (_, summary) = seconds(lambda h=history: backtest(h, draws=DRAWS))
        backtest_runs.append(t)
        t, persist = seconds(lambda: _persistence(data, authority, scale))
        baseline_runs.append(t)
    assert fc is not None and summary is not None and persist is not None
    total = [sum(x) for x in zip(history_runs, forecast_runs, backtest_runs, strict=True)]
    h = fc.history
    size = (
        f"{int(h.stock(len(h.dates) - 1).sum()):,} children, {len(h.areas)} areas, "
        f"{len(h.dates)} censuses"
    )
    note = (
        f"history {median(history_runs):.2f} s + projection {median(forecast_runs):.2f} s + "
        f"backtest {median(backtest_runs):.2f} s"
    )
    row = Row(
        case="9",
        name=f"forecast {scale.label}: {YEARS} years, {DRAWS:,} paths, with backtest",
        size=size,
        project_s=median(total),
        project_runs=total,
        baseline="naive persistence (one census by area)",
        baseline_s=median(baseline_runs),
        baseline_runs=baseline_runs,
        note=note,
        extra={"backtest": summary, "authority": authority.code},
    )
    projection_only = Row(
        case="9",
        name=f"projection only {scale.label} (rates + 1,000 paths)",
        size=size,
        project_s=median(forecast_runs),
        project_runs=forecast_runs,
    )
    errors: list[Any] = []
    for key, s in summary.items():
        if "model" not in s:
            errors.append([scale.label, key.replace("_", " "), "skipped: " + s["skipped"], "", ""])
            continue
        errors.append(
            [
                scale.label,
                key.replace("_", " "),
                *(
                    f"{s[m]['district_mean_absolute_error']:.1f} "
                    f"({s[m]['district_mean_absolute_pct_error']:.1f} %)"
                    for m in ("model", "persistence", "trend")
                ),
            ]
        )
    expected_now = float(fc.projection.expected[0].sum())
    census_now = float(sum(persist.values()))
    d = fc.districts
    year = d[
        (d["district_code"] == authority.code) & (d["quarter_end"] == d["quarter_end"].unique()[4])
    ]
    lo, mid, hi = (float(year[c].iloc[0]) for c in ("lower_80", "children", "upper_80"))
    checks = {
        "the forecast starts from the as-at census (persistence's count)": (
            expected_now == census_now,
            f"{expected_now:.0f} vs {census_now:.0f}",
        ),
        "the total's 80 % interval in a year brackets its expected value": (
            lo <= mid <= hi,
            f"{lo:.0f} <= {mid:.1f} <= {hi:.0f}",
        ),
    }
    return row, projection_only, errors, checks


def run(
    kent: Scale, national: Scale, *, kent_authority: Authority, national_authority: Authority,
    kent_runs: int, national_runs: int,
) -> CaseResult:  # fmt: skip
    res = CaseResult("9", "demand forecast (stock-flow model, 80 % interval, backtest)")
    errors: list[Any] = []
    # --quick: the Kent demo stands in for the national one, so Kent stays the authority
    national_as = national_authority if national.folder != kent.folder else kent_authority
    for scale, authority, runs in (
        (kent, kent_authority, kent_runs),
        (national, national_as, national_runs),
    ):
        row, projection_only, errs, checks = _one(scale, authority, runs=runs)
        res.rows += [row, projection_only]
        errors += errs
        for name, (ok, detail) in checks.items():
            res.check(f"{scale.label}: {name}", ok, detail)
    res.tables.append(
        Table(
            case="9",
            title="Forecast backtest: mean absolute error by area, children (%)",
            columns=["data", "forecast made", "model", "persistence", "linear trend"],
            rows=errors,
            note="Forecasts made 1 and 2 years before the as-at date from the history known "
            "then, against the census that happened. A lag without a year of history before it "
            "is skipped.",
        )
    )
    return res
