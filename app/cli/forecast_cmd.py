"""``placemap forecast``: children looked after by home district, quarter by quarter, with an
80 % interval and a backtest; with ``--carers``, the recruitment targets that follow.

Writes aggregate tables only (counts by district, age band and placement kind)."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

import pandas as pd

from app.cli.analyse_cmd import add_input_arguments, placement_paths, read_input
from app.cli.arguments import non_negative_float, non_negative_int, positive_float, positive_int
from geo.errors import InputError
from geo.measures.forecast import INTERVAL, Forecast, forecast, uasc_forecast
from geo.measures.forecast_backtest import backtest
from geo.spatial import Authority, load_authority
from geo.ssda903 import PlacementData, latest_date
from geo.writing import csv_bytes, json_bytes, write_outputs

METHOD = (
    "Stock-flow (Markov) model of the headline cohort (no UASC, no short breaks) over age band "
    "(0-4, 5-10, 11-15, 16+) x placement kind (in-house foster, IFA foster, other foster, "
    "residential, other) per home district, plus 'not looked after'. Transition, exit and "
    "ageing shares and Poisson entries per quarter are estimated from quarterly censuses over "
    "the reference window; a district's shares are shrunk towards the authority's (10 "
    "pseudo-children per state). 'children' is the expected value; lower_80/upper_80 are the "
    "10th/90th percentiles of simulated paths (parametric bootstrap: Dirichlet/Gamma draws of "
    "the rates, then multinomial moves and Poisson entries each quarter; fixed seed)."
)

UASC_METHOD = (
    "UASC apart from the headline cohort, for the authority as one area: the same stock-flow "
    "model on the UASC of each census (their own exits, ageing and moves from the reference "
    "window); arrivals per quarter set by the scenario (default the window's mean), with the "
    "window's mix of age bands and placement kinds, Poisson from quarter to quarter."
)


FORECAST_DEMAND_METHOD = (
    "Today's children at home (the coverage model's demand) scaled to the forecast for each year "
    "end by district x age band x placement kind: a cell's children now x forecast / census, "
    "rounded to whole children by largest remainder; a cell keeps its children in a fixed "
    "pseudo-random order (seed 0), repeating them in turn when it grows (each copy keeps its "
    "home, needs and age; an empty cell copies the district's children of the band, else of any "
    "band at the band's median age). The same carers, radius and matching give the gap within "
    "20 miles (net places = its share per kind; it already holds the growth) and the siting "
    "search (recruitment_sites.csv)."
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "forecast",
        help="forecast children looked after by district, backtest, recruitment targets",
        description="Forecast the children looked after by home district quarter by quarter "
        "(stock-flow model over age band x placement kind, 80 %% interval), backtest it on "
        "the history, and with --carers set gross and net foster places and households to "
        "recruit. Writes forecast_districts.csv, forecast_detail.csv, forecast_uasc.csv, "
        "backtest.csv, with --carers recruitment_targets.csv, forecast_coverage.csv and "
        "recruitment_sites.csv, and summary.json. Needs the episode history: at least a year before the "
        "as-at date.",
    )
    add_input_arguments(p)
    p.add_argument(
        "--reference-years",
        type=positive_float,
        default=3.0,
        metavar="N",
        help="years of history before the as-at date to estimate the rates from (default 3)",
    )
    p.add_argument(
        "--years", type=positive_int, default=4, metavar="N", help="years to forecast (default 4)"
    )
    p.add_argument("--carers", metavar="FILE", help="carers register CSV: recruitment targets")
    p.add_argument(
        "--attrition",
        type=_share,
        metavar="SHARE",
        help="share of fostering households lost a year, e.g. 0.094 (default: the register's "
        "deregistrations in the year before the as-at date when it has DEREGISTRATION_DATE, "
        "else 9.4 %%, Kent's 82 carers lost of ~870 households)",
    )
    p.add_argument(
        "--entry-change",
        type=float,
        default=0.0,
        metavar="PCT",
        help="scenario: entries into care up (or down, negative) by PCT %% (default 0)",
    )
    p.add_argument(
        "--in-house-shift",
        type=float,
        default=0.0,
        metavar="PCT",
        help="scenario: PCT %% of children entering IFA foster care enter in-house foster "
        "care instead (default 0)",
    )
    p.add_argument(
        "--uasc-arrivals",
        type=non_negative_float,
        metavar="N",
        help="scenario: UASC arriving per quarter, forecast apart from the headline cohort "
        "(default: the mean of the reference window)",
    )
    p.add_argument(
        "--site-households",
        type=non_negative_int,
        metavar="N",
        help="with --carers: site at most N households a year in recruitment_sites.csv "
        "(default: every net household of the year's target; 0: no siting search). The search "
        "compares each approval kind, so for thousands of households (a region or England) it "
        "takes hours: cap it there",
    )
    p.add_argument("--seed", type=int, default=0, metavar="N", help="simulation seed (default 0)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.set_defaults(func=run)


def _share(value: str) -> float:
    try:
        x = float(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from err
    if not 0 <= x < 1:
        raise argparse.ArgumentTypeError(f"{value!r} must be a share from 0 to below 1")
    return x


def run(args: argparse.Namespace) -> int:
    authority = load_authority(args.authority)
    data = read_input(args, authority)
    as_at: date = args.as_at or latest_date(data)
    try:
        fc = forecast(
            data,
            authority,
            as_at=as_at,
            years=args.years,
            reference_years=args.reference_years,
            entry_change_pct=args.entry_change,
            in_house_shift_pct=args.in_house_shift,
            seed=args.seed,
        )
    except ValueError as err:
        raise InputError(f"{err}. Check --entry-change and --in-house-shift.") from err
    uasc = uasc_forecast(
        data,
        authority,
        as_at=as_at,
        years=args.years,
        reference_years=args.reference_years,
        arrivals_per_quarter=args.uasc_arrivals,
        seed=args.seed,
    )
    rows, bt = backtest(fc.history, reference_years=args.reference_years, seed=args.seed)
    files: dict[str, bytes] = {
        "forecast_districts.csv": csv_bytes(fc.districts),
        "forecast_detail.csv": csv_bytes(fc.detail),
        "forecast_uasc.csv": csv_bytes(uasc.table),
        "backtest.csv": csv_bytes(rows),
    }
    summary: dict[str, Any] = {
        "as_at": as_at.isoformat(),
        "authority": {"code": authority.code, "name": authority.name},
        "files": {"placements": placement_paths(args)},
        "method": METHOD,
        "interval": {"lower_quantile": INTERVAL[0], "upper_quantile": INTERVAL[1], "draws": 1000},
        "seed": args.seed,
        "history": {
            "starts": fc.history.history_start.isoformat(),
            "census_dates": len(fc.history.dates),
            "children_without_known_age_not_modelled": fc.history.not_modelled,
        },
        "reference_window": {
            "from": fc.rates.window[0].isoformat(),
            "to": fc.rates.window[1].isoformat(),
            "quarters": fc.rates.quarters,
            "entries": int(fc.rates.entries.sum()),
            "exits": int(fc.rates.transitions[..., -1].sum()),
        },
        "scenario": {
            "entry_change_pct": args.entry_change,
            "in_house_shift_pct": args.in_house_shift,
        },
        "projection": _headline(fc.districts, authority.code, as_at, args.years),
        "backtest": bt,
        "uasc": {
            "method": UASC_METHOD,
            "arrivals_per_quarter": uasc.arrivals_per_quarter,
            "arrivals_source": "--uasc-arrivals"
            if args.uasc_arrivals is not None
            else "the mean of the reference window",
            "reference_arrivals_per_quarter": uasc.reference_arrivals_per_quarter,
            "now": int(uasc.table["children"].iloc[0]),
            **{
                f"{y}_year": {
                    "quarter_end": uasc.table["quarter_end"].iloc[4 * y],
                    "children": float(uasc.table["children"].iloc[4 * y]),
                    "lower_80": int(uasc.table["lower_80"].iloc[4 * y]),
                    "upper_80": int(uasc.table["upper_80"].iloc[4 * y]),
                }
                for y in range(1, args.years + 1)
            },
        },
        "left_out": "short breaks (UASC are forecast apart: forecast_uasc.csv)",
    }
    if args.carers:
        tables, summary["recruitment"] = _targets(args, data, fc, authority, as_at)
        files.update({name: csv_bytes(table) for name, table in tables.items()})
    files["summary.json"] = json_bytes(summary)
    write_outputs(args.out, files)
    total = summary["projection"]
    one = total.get("1_year", {})
    print(
        f"{authority.name}, as at {as_at:%d/%m/%Y}: {total['now']:,} children in the headline "
        f"cohort; in a year {one.get('children', 0):,.0f} "
        f"(80 % interval {one.get('lower_80', 0):,}-{one.get('upper_80', 0):,}). "
        f"Written to {args.out}"
    )
    return 0


def _headline(districts: pd.DataFrame, code: str, as_at: date, years: int) -> dict[str, Any]:
    total = districts[districts["district_code"] == code].to_dict("records")
    out: dict[str, Any] = {"now": int(total[0]["children"])}
    for y in range(1, years + 1):
        row = total[4 * y]
        out[f"{y}_year"] = {
            "quarter_end": row["quarter_end"],
            "children": float(row["children"]),
            "lower_80": int(row["lower_80"]),
            "upper_80": int(row["upper_80"]),
        }
    return out


def _targets(
    args: argparse.Namespace, data: PlacementData, fc: Forecast, authority: Authority, as_at: date
) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Targets, the coverage gap on the forecast demand and where to recruit, each year end."""
    from geo.coverage import build_coverage, candidate_sites
    from geo.coverage.forecast_demand import (
        CoverageBasis,
        demand_kinds,
        forecast_coverage,
        gap_table,
        sites_for_years,
    )
    from geo.coverage.targets import NEEDS, choose_attrition, recruitment_targets
    from geo.measures import analyse
    from geo.ssda903 import format_categories, read_carers

    analysis = analyse(data, authority, as_at=as_at)
    register = read_carers(args.carers, as_at=as_at)
    progress = getattr(args, "progress", None)
    model = build_coverage(analysis, register, progress=progress).model
    result = model.result()
    years = tuple(range(1, args.years + 1))
    kinds = demand_kinds(analysis)
    # The user's rate wins; else the register's own year of deregistrations; else the default.
    attrition = choose_attrition(
        register.carers, as_at=as_at, rate=args.attrition, source="--attrition"
    )
    # Where to site each year's net households (all kinds together: coverage does not depend on
    # the provider), households of the register's mean approved places, approved for the needs
    # that close the most gap (as the Recruitment page advises).
    supplying = register.carers[register.carers["supplies"].astype(bool)]
    places = max(1, round(float(supplying["APPROVED_PLACES"].mean()))) if len(supplying) else 1
    sites_at = candidate_sites(authority)
    # Year by year, each year's coverage model dropped once its targets and sites are taken
    # (at national scale a model holds tens of millions of child-carer pairs). Year 0 is today's
    # demand: the same gap as ``placemap coverage``.
    coverage = [yc.without_model() for yc in forecast_coverage(model, kinds, fc, years=(0,))]
    basis, demand = CoverageBasis.of(model), model.demand
    del model  # today's figures are taken: one model in memory at a time
    parts, site_parts, plans = [], [], {}
    cap = args.site_households
    for y in years:
        (yc,) = forecast_coverage(basis, kinds, fc, years=(y,), progress=progress)
        part = recruitment_targets(
            fc,
            result.district,
            register.carers,
            attrition=attrition.rate,
            years=(y,),
            demand=demand,
            coverage=[yc],
        )
        mine = part[(part["district_code"] == authority.code) & (part["need"] == "all")]
        wanted = int(mine["net_households"].sum())
        households = wanted if cap is None else min(wanted, cap)
        if cap is None or households > 0:
            table, plan = sites_for_years(
                [yc],
                sites_at,
                households={y: households},
                places=places,
                progress=progress,
            )
            site_parts.append(table)
            plans.update(plan)
        parts.append(part)
        coverage.append(yc.without_model())
    targets = pd.concat(parts, ignore_index=True)
    sites = (
        pd.concat(site_parts, ignore_index=True)
        if site_parts  # else no year sited (--site-households 0): the columns, no rows
        else sites_for_years([], sites_at, households={}, places=places)[0]
    )
    totals = targets[(targets["district_code"] == authority.code) & (targets["need"] == "all")]
    by_year: dict[str, Any] = {}
    for y in years:
        t = totals[totals["years_ahead"] == y]
        by_year[f"{y}_year"] = {
            row["placement_kind"]: {
                "net_places": int(row["net_places"]),
                "gross_places": int(row["gross_places"]),
                "net_households": int(row["net_households"]),
                "gross_households": int(row["gross_households"]),
                "expected_losses": float(row["expected_losses"]),
            }
            for _, row in t.iterrows()
        }
    forecast_gap = {
        f"{yc.years_ahead}_year" if yc.years_ahead else "now": {
            "year_end": yc.forecast_demand.year_end.isoformat(),
            "children": len(yc.forecast_demand.demand),
            "gap": yc.gap,
            "children_not_located": yc.forecast_demand.not_located,
            "children_carried_unscaled": yc.forecast_demand.carried,
        }
        for yc in coverage
    }
    siting = {
        f"{y}_year": {
            "households": plan.households,
            "suggested": int(len(plan.suggestions)),
            "gap_before": plan.gap_before,
            "gap_after": plan.gap_after,
            "household_categories": format_categories(plan.kind.categories),
        }
        for y, plan in plans.items()
    }
    tables = {
        "recruitment_targets.csv": targets,
        "forecast_coverage.csv": gap_table(coverage, fc),
        "recruitment_sites.csv": sites,
    }
    return tables, {
        "carers": register.summary,
        "coverage_gap_now": int(result.gap),
        "coverage_on_forecast_demand": {
            "method": FORECAST_DEMAND_METHOD,
            **forecast_gap,
        },
        "sites": {"household_places": places, "households_a_year_at_most": cap, **siting},
        "targets": by_year,
        "needs": "rows with need 'all' are the targets; rows for the age bands, "
        f"{', '.join(NEEDS[-2:])} are 'of which' rows (they overlap): {', '.join(NEEDS)}",
        "attrition": {
            "rate": attrition.rate,
            "source": attrition.source,
            **(
                {"deregistered": attrition.deregistered, "at_start": attrition.at_start}
                if attrition.deregistered is not None
                else {}
            ),
        },
    }
