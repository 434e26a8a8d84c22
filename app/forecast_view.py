"""View models of the Forecast page: the demand forecast, its backtest and the recruitment
targets of a dataset, computed once per scenario and cached on the dataset
(:meth:`Dataset.cached`); the page gets aggregate tables with disclosure control applied.

Projections are expected values, not counts of children. They are shown rounded to whole
children and go through the same rule as counts (:func:`geo.disclosure.suppress_forecast`):
protected by the cell-key method (:mod:`app.protection`; ``c`` = 0 to 6) unless the user may
see unsuppressed small numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from app.data.store import Dataset, DatasetStore
from geo.disclosure import SUPPRESSED, whole_children
from geo.measures.forecast import Forecast, StateHistory, forecast, state_history
from geo.measures.forecast_backtest import backtest

YEARS = 4  # the page's horizon, as the CLI's default
DRAWS = 1000  # simulated paths of the 80 % interval, as the CLI


@dataclass(frozen=True)
class Scenario:
    """The page's scenario controls (percentages as typed)."""

    entry_change_pct: float = 0.0
    in_house_shift_pct: float = 0.0
    attrition_pct: float | None = None  # None: the stated default (geo.coverage.targets)

    @classmethod
    def from_inputs(cls, entry: Any, shift: Any, attrition: Any = None) -> Scenario:
        """From the page's number inputs (blank = 0, or the default attrition). Raises
        ``ValueError`` with a message a user can act on when a value is out of range."""
        e, s = _number(entry, 0.0), _number(shift, 0.0)
        a = None if attrition in (None, "") else _number(attrition, 0.0)
        if not -100.0 <= e <= 1000.0:
            raise ValueError(f"The entry change must be between -100 % and 1000 %, not {e:g} %.")
        if not 0.0 <= s <= 100.0:
            raise ValueError(f"The in-house shift must be between 0 % and 100 %, not {s:g} %.")
        if a is not None and not 0.0 <= a < 100.0:
            raise ValueError(f"The attrition must be from 0 % to below 100 % a year, not {a:g} %.")
        return cls(e, s, a)


def _number(value: Any, default: float) -> float:
    if value in (None, ""):
        return default
    try:
        x = float(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{value!r} is not a number.") from err
    if not np.isfinite(x):
        raise ValueError(f"{value!r} is not a number.")
    return x


def history(store: DatasetStore, ds: Dataset) -> StateHistory:
    """Quarterly censuses of the dataset up to its census date (raises InputError when the
    history is too short for a forecast)."""
    as_at = store.analysis(ds.id).as_at
    return ds.cached(
        ("forecast_history", as_at),
        lambda: state_history(ds.data, store.authority, as_at=as_at),
    )


def scenario_forecast(store: DatasetStore, dataset_id: str | None, scenario: Scenario) -> Forecast:
    ds = store.get(dataset_id)
    h = history(store, ds)
    key = ("forecast", h.dates[-1], scenario.entry_change_pct, scenario.in_house_shift_pct)
    return ds.cached(
        key,
        lambda: forecast(
            ds.data,
            store.authority,
            as_at=h.dates[-1],
            years=YEARS,
            entry_change_pct=scenario.entry_change_pct,
            in_house_shift_pct=scenario.in_house_shift_pct,
            draws=DRAWS,
            history=h,
        ),
    )


def forecast_backtest(
    store: DatasetStore, dataset_id: str | None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    ds = store.get(dataset_id)
    h = history(store, ds)
    return ds.cached(("forecast_backtest", h.dates[-1]), lambda: backtest(h, draws=DRAWS))


def fan_table(fc: Forecast, *, exact: bool) -> pd.DataFrame:
    """Recorded quarterly censuses and the forecast, every area and the authority total:
    ``quarter_end`` (date), ``district_code``, ``district_name``, ``recorded`` (bool), and
    ``children``/``lower_80``/``upper_80`` as whole numbers (float, NaN where hidden or not
    applicable) with ``*_text`` display strings (``c`` where hidden)."""
    h = fc.history
    names = h.names()
    codes = [*h.areas, h.authority.code]
    past = []
    for t, when in enumerate(h.dates[:-1]):
        stock = h.stock(t).sum(axis=1)
        past.append(
            pd.DataFrame(
                {
                    "quarter_end": when.isoformat(),
                    "district_code": codes,
                    "district_name": [names.get(c, c) for c in codes],
                    "children": np.append(stock, stock.sum()).astype(float),
                    "lower_80": np.nan,
                    "upper_80": np.nan,
                    "recorded": True,
                }
            )
        )
    future = fc.districts[["quarter_end", "district_code", "district_name", "children"]].copy()
    future["lower_80"] = fc.districts["lower_80"].astype(float)
    future["upper_80"] = fc.districts["upper_80"].astype(float)
    future["recorded"] = future["quarter_end"] == fc.projection.dates[0].isoformat()
    # the census row carries no interval: it happened
    future.loc[future["recorded"], ["lower_80", "upper_80"]] = np.nan
    table = pd.concat([*past, future], ignore_index=True)
    return _shown(table, ("children", "lower_80", "upper_80"), h.authority.code, exact=exact)


def _shown(
    table: pd.DataFrame,
    counts: tuple[str, ...],
    total_code: str,
    *,
    exact: bool,
    by: tuple[str, ...] = ("quarter_end",),
    additive: tuple[str, ...] = ("children",),
) -> pd.DataFrame:
    """``counts`` rounded to whole children, hidden (NaN, text ``c``) by the forecast policy
    unless ``exact``."""
    out = table.copy()
    if exact:
        for c in counts:
            out[c] = whole_children(out[c])
        hidden = pd.DataFrame(False, index=out.index, columns=list(counts))
    else:  # the cell-key method, each cell keyed by its definition (app.protection)
        from app.protection import protected_value

        hidden = pd.DataFrame(False, index=out.index, columns=list(counts))
        keys = [tuple(out[b].astype(str)) for b in (*by, "district_code") if b in out.columns]
        rows = list(zip(*keys, strict=True)) if keys else [() for _ in range(len(out))]
        for c in counts:
            whole = whole_children(out[c]).to_numpy(float)
            shown = np.array(
                [
                    protected_value(v, ("forecast", *row, c)) if np.isfinite(v) else np.nan
                    for v, row in zip(whole, rows, strict=True)
                ]
            )
            hidden[c] = np.isfinite(whole) & ~np.isfinite(shown)
            out[c] = shown
    for c in counts:
        out[f"{c}_text"] = [
            SUPPRESSED if h else ("–" if not np.isfinite(v) else f"{int(v):,}")
            for v, h in zip(out[c].to_numpy(float), hidden[c].to_numpy(bool), strict=True)
        ]
    return out


def attrition(store: DatasetStore, dataset_id: str | None, scenario: Scenario) -> Any:
    """The attrition the targets use (:class:`geo.coverage.targets.Attrition`), by the CLI's
    rule: the rate typed on the page, else the carers register's own year of deregistrations,
    else the stated default."""
    from geo.coverage.targets import choose_attrition

    ds = store.get(dataset_id)
    as_at = history(store, ds).dates[-1]
    pct = scenario.attrition_pct

    def compute() -> Any:
        carers = None if ds.carers is None else ds.carers.carers
        if pct is None:
            return choose_attrition(carers, as_at=as_at)
        return choose_attrition(
            carers,
            as_at=as_at,
            rate=pct / 100.0,
            source=f"your figure, {pct:g} % of households a year",
        )

    return ds.cached(("forecast_attrition", as_at, pct), compute)


def targets(store: DatasetStore, dataset_id: str | None, scenario: Scenario) -> pd.DataFrame | None:
    """Recruitment targets (:func:`geo.coverage.targets.recruitment_targets`) for every year of
    the forecast, or None when the dataset has no carers register. As ``placemap forecast
    --carers`` works them out: each year's gap is the coverage model's on that year end's
    forecast demand (:func:`geo.coverage.forecast_demand.forecast_coverage`), the attrition as
    :func:`attrition` says."""
    from app.coverage_view import coverage_model, district_coverage
    from geo.coverage.forecast_demand import demand_kinds, forecast_coverage
    from geo.coverage.targets import recruitment_targets

    ds = store.get(dataset_id)
    if ds.carers is None:
        return None
    fc = scenario_forecast(store, ds.id, scenario)
    rate = attrition(store, ds.id, scenario).rate
    years = tuple(range(1, YEARS + 1))

    def compute() -> pd.DataFrame:
        model = coverage_model(store, ds.id)
        kinds = demand_kinds(store.analysis(ds.id))
        on_demand = [yc.without_model() for yc in forecast_coverage(model, kinds, fc, years=years)]
        return recruitment_targets(
            fc,
            district_coverage(store, ds.id),
            ds.carers.carers,
            attrition=rate,
            years=years,
            demand=model.demand,
            coverage=on_demand,
        )

    key = ("forecast_targets", fc.as_at, scenario.entry_change_pct, scenario.in_house_shift_pct)
    return ds.cached((*key, rate), compute)


def targets_table(table: pd.DataFrame, *, year: int, total_code: str, exact: bool) -> pd.DataFrame:
    """The targets of ``year`` with the children columns rounded and protected."""
    t = table[(table["years_ahead"] == year) & (table["need"] == "all")].reset_index(drop=True)
    return _shown(
        t,
        ("children_now", "children_forecast"),
        total_code,
        exact=exact,
        by=("placement_kind",),
        additive=("children_now", "children_forecast"),
    )


def backtest_sentences(summary: dict[str, Any]) -> list[str]:
    """The backtest in plain words, one sentence per forecast made in the past."""
    out = []
    for key, lag in (("1_year", 1), ("2_year", 2)):
        s = summary.get(key)
        if not s:
            continue
        span = "a year" if lag == 1 else f"{lag} years"
        if "skipped" in s:
            out.append(f"No backtest {span} back: it {s['skipped']}.")
            continue
        m, p, t = s["model"], s["persistence"], s["trend"]
        beats = m["district_mean_absolute_error"] < p["district_mean_absolute_error"]
        verdict = (
            "The model beat persistence (assuming no change): it was closer by district."
            if beats
            else "The model did not beat persistence (assuming no change): treat its figures "
            "with caution and read them beside the recorded trend."
        )
        out.append(
            f"A forecast made {span} earlier, on {_day(s['forecast_from'])}, missed each "
            f"district's count by {m['district_mean_absolute_error']:.1f} children on average "
            f"({m['district_mean_absolute_pct_error']:.1f} %); assuming no change missed by "
            f"{p['district_mean_absolute_error']:.1f} ({p['district_mean_absolute_pct_error']:.1f} "
            f"%) and a straight-line trend by {t['district_mean_absolute_error']:.1f} "
            f"({t['district_mean_absolute_pct_error']:.1f} %). {verdict} The recorded count fell "
            f"inside the 80 % interval in {s['districts_within_80_pct']:.0f} % of districts."
        )
    return out


def _day(iso: str) -> str:
    return pd.Timestamp(iso).strftime("%d/%m/%Y")
