"""Forecast: children looked after by home district for the next four years (expected value and
80 % interval), how well the same model did on the past, and — with a carers register — the
foster places and households to recruit, under the scenario the user sets."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, dcc, html

from app import figures
from app import forecast_view as fv
from app.callbacks import callback
from app.components import data_table, error_alert, graph_figure, live_region
from app.data.state import store
from app.forecast_figures import fan_chart
from app.ids import Id
from app.protection import protecting
from app.views import exact_counts_allowed
from geo.coverage.targets import DEFAULT_ATTRITION
from geo.disclosure import NO_SUPPRESSION_NOTE
from geo.spatial import OUTSIDE

KIND_LABELS = {"in_house_foster": "In-house foster", "ifa_foster": "IFA foster"}
METHOD_NOTE = (
    "Stock-flow model of the headline cohort (no UASC, no short breaks): entries, moves between "
    "placement kinds, ageing and exits by age band and placement kind per home district, "
    "averaged over the last 3 years of quarterly censuses (or the whole history when shorter). "
    "The expected value is the rates applied to today's children; the 80 % interval is the "
    "10th-90th percentile of 1,000 simulated futures, so 8 in 10 outcomes should fall inside it."
)
PRIVACY_NOTE = (
    "Projections are expected values, not counts of children; they are rounded to whole "
    "children and protected like counts by the cell-key method: 'c' is 0 to 6 (every 1 to 5), "
    "other figures within 2, the same every time they are shown."
)


def _number_input(
    label: str,
    id: str,
    value: float | None,
    *,
    lo: float,
    hi: float,
    help: str,
    placeholder: str | None = None,
) -> Any:
    return dbc.Col(
        [
            dbc.Label(label, html_for=id, className="filter-label"),
            dbc.Input(
                id=id,
                type="number",
                value=value,
                min=lo,
                max=hi,
                step=0.1,
                debounce=True,
                placeholder=placeholder,
            ),
            dbc.FormText(help, id=f"{id}-help"),
        ],
        xs=12,
        md=6,
        xl=3,
        className="mb-2",
    )


def layout(**_kwargs: Any) -> html.Div:
    s = store()
    areas = [{"label": n, "value": c} for c, n in s.authority.districts.items()]
    areas.append({"label": f"Outside {s.authority.name} or not known", "value": OUTSIDE})
    years = [{"label": f"Year {y}", "value": str(y)} for y in range(1, fv.YEARS + 1)]
    return html.Div(
        [
            html.H1("How many children will need a place?", className="page-title"),
            html.P(
                f"Children looked after by {s.authority.name} by home district, recorded "
                f"quarter by quarter and forecast {fv.YEARS} years ahead. {METHOD_NOTE}",
                className="lead-text",
            ),
            html.Div(id=Id.FC_ALERT),
            live_region(Id.FC_STATUS),
            html.Section(
                [
                    html.H2("Scenario", className="section-title"),
                    dbc.Row(
                        [
                            _number_input(
                                "Entries into care, change (%)",
                                Id.FC_ENTRY,
                                0,
                                lo=-100,
                                hi=1000,
                                help="e.g. 10 for 10 % more children entering care each quarter",
                            ),
                            _number_input(
                                "New IFA foster placements made in-house instead (%)",
                                Id.FC_SHIFT,
                                0,
                                lo=0,
                                hi=100,
                                help="0 to 100: share of entries to IFA foster care moved to "
                                "in-house foster care",
                            ),
                            _number_input(
                                "Fostering households lost a year (%)",
                                Id.FC_ATTRITION,
                                None,  # blank: the register's own rate, else the default
                                lo=0,
                                hi=99.9,
                                help="Blank: the carers register's own year of "
                                "deregistrations, else the default "
                                f"{100 * DEFAULT_ATTRITION:.1f} % (Kent's sufficiency strategy); "
                                "the figure used is stated under the targets.",
                                placeholder="from the register",
                            ),
                            dbc.Col(
                                [
                                    dbc.Label(
                                        "Home district",
                                        html_for=Id.FC_DISTRICT,
                                        className="filter-label",
                                    ),  # fmt: skip
                                    dbc.Select(
                                        id=Id.FC_DISTRICT, options=areas, value=areas[0]["value"]
                                    ),
                                ],
                                xs=12,
                                md=6,
                                xl=3,
                                className="mb-2",
                            ),
                        ]
                    ),
                ],
                className="card-panel mb-3",
            ),
            html.Section(
                [
                    html.H2(f"{s.authority.name}: forecast", className="section-title"),
                    dbc.Row(
                        [
                            dbc.Col(
                                _graph(Id.FC_AUTHORITY, Id.FC_AUTHORITY_TABLE, "authority"), lg=7
                            ),  # fmt: skip
                            dbc.Col(dcc.Loading(html.Div(id=Id.FC_AUTHORITY_TABLE)), lg=5),
                        ]
                    ),
                ],
                className="card-panel mb-3",
            ),
            html.Section(
                [
                    html.H2("The chosen district: forecast", className="section-title"),
                    dbc.Row(
                        [
                            dbc.Col(_graph(Id.FC_AREA, Id.FC_AREA_TABLE, "chosen district"), lg=7),
                            dbc.Col(html.Div(id=Id.FC_AREA_TABLE), lg=5),
                        ]
                    ),
                ],
                className="card-panel mb-3",
            ),
            html.Section(
                [
                    html.H2("Would this model have been right before?", className="section-title"),
                    dcc.Loading(html.Div(id=Id.FC_BACKTEST)),
                ],
                className="card-panel mb-3",
            ),
            html.Section(
                [
                    html.H2("Foster carers to recruit", className="section-title"),
                    dbc.Row(
                        dbc.Col(
                            [
                                dbc.Label(
                                    "Plan for", html_for=Id.FC_YEAR, className="filter-label"
                                ),  # fmt: skip
                                dbc.Select(id=Id.FC_YEAR, options=years, value="1"),
                            ],
                            xs=12,
                            md=4,
                            xl=2,
                            className="mb-2",
                        )
                    ),
                    dcc.Loading(html.Div(id=Id.FC_TARGETS)),
                ],
                className="card-panel mb-3",
            ),
            html.P(PRIVACY_NOTE, className="muted"),
        ]
    )


def _graph(graph_id: str, table_id: str, what: str) -> Any:
    return graph_figure(
        dcc.Graph(id=graph_id, config=figures.graph_config(displayModeBar=False)),
        name=f"Fan chart: children looked after in the {what}, recorded and forecast with "
        "the 80 % interval",
        beside=table_id,
    )


@callback(
    Output(Id.FC_AUTHORITY, "figure"),
    Output(Id.FC_AUTHORITY_TABLE, "children"),
    Output(Id.FC_AREA, "figure"),
    Output(Id.FC_AREA_TABLE, "children"),
    Output(Id.FC_ALERT, "children"),
    Output(Id.FC_STATUS, "children"),
    Input(Id.DATASET, "data"),
    Input(Id.FC_DISTRICT, "value"),
    Input(Id.FC_ENTRY, "value"),
    Input(Id.FC_SHIFT, "value"),
)
def update_forecast(
    dataset_id: str | None, district: str | None, entry: Any, shift: Any
) -> tuple[Any, ...]:
    """The fan charts of the authority and the chosen district, each with its table."""
    empty = go.Figure()
    try:
        scenario = fv.Scenario.from_inputs(entry, shift)
        s = store()
        fc = fv.scenario_forecast(s, dataset_id, scenario)
        exact = exact_counts_allowed()
        ds = s.get(dataset_id)

        def fan() -> Any:
            with protecting(ds.secret):  # the cell-key method's secret (app.protection)
                return fv.fan_table(fc, exact=exact)

        table = ds.cached(("forecast_fan", fc.as_at, scenario, exact), fan)
    except ValueError as err:
        return empty, None, empty, None, _warning(str(err)), "The scenario was not applied."
    except Exception as err:
        return empty, None, empty, None, error_alert(err), "The forecast could not be shown."
    code = s.authority.code
    district = district or next(iter(s.authority.districts))
    mine, there = table[table["district_code"] == code], table[table["district_code"] == district]
    name = str(there["district_name"].iloc[0]) if len(there) else district
    total = mine[mine["quarter_end"] == fc.projection.dates[4].isoformat()]
    status = (
        f"Forecast updated: {total['children_text'].iloc[0]} children expected in a year "
        f"(80 % interval {total['lower_80_text'].iloc[0]} to {total['upper_80_text'].iloc[0]})."
        if len(total)
        else "Forecast updated."
    )
    return (
        fan_chart(mine, title=f"{s.authority.name}: children looked after"),
        fan_rows_table(mine, exact=exact),
        fan_chart(there, title=f"{name}: children looked after"),
        fan_rows_table(there, exact=exact),
        None,
        status,
    )


def _warning(text: str) -> Any:
    return dbc.Alert([html.Strong("Check the scenario. "), text], color="warning", className="mb-3")


def fan_rows_table(rows: pd.DataFrame, *, exact: bool) -> Any:
    body = [
        html.Tr(
            [
                html.Td(pd.Timestamp(r["quarter_end"]).strftime("%d/%m/%Y")),
                html.Td("Recorded" if r["recorded"] else "Forecast"),
                html.Td(r["children_text"], className="num"),
                html.Td(
                    "–" if r["recorded"] else f"{r['lower_80_text']} to {r['upper_80_text']}",
                    className="num",
                ),
            ]
        )
        for _, r in rows.iterrows()
    ]
    note = (
        NO_SUPPRESSION_NOTE
        if exact
        else "Forecasts rounded to whole children; c: 0 to 6, others within 2."
    )
    return html.Div(
        [
            html.P("The chart as a table. " + note, className="muted mb-1"),
            data_table(
                ["Quarter end", "", "Children", "80 % interval"],
                body,
                numeric_from=2,
                caption=f"Children looked after: {rows['district_name'].iloc[0]}"
                if len(rows)
                else None,
            ),
        ]
    )


@callback(Output(Id.FC_BACKTEST, "children"), Input(Id.DATASET, "data"))
def update_backtest(dataset_id: str | None) -> Any:
    """The backtest in plain words, with the errors of the three methods as a table."""
    try:
        _, summary = fv.forecast_backtest(store(), dataset_id)
    except Exception as err:
        return error_alert(err)
    words = [html.P(t) for t in fv.backtest_sentences(summary)]
    body = []
    for key, lag in (("1_year", "1 year"), ("2_year", "2 years")):
        s = summary.get(key, {})
        if "model" not in s:
            continue
        for method, label in (
            ("model", "This model"),
            ("persistence", "No change (persistence)"),
            ("trend", "Straight-line trend"),
        ):
            m = s[method]
            body.append(
                html.Tr(
                    [
                        html.Td(lag),
                        html.Td(label),
                        html.Td(f"{m['district_mean_absolute_error']:.1f}", className="num"),
                        html.Td(f"{m['district_mean_absolute_pct_error']:.1f} %", className="num"),
                        html.Td(
                            "–"
                            if m["total_pct_error"] is None
                            else f"{m['total_pct_error']:+.1f} %",
                            className="num",
                        ),  # fmt: skip
                    ]
                )
            )
    heads = [
        "Forecast made",
        "Method",
        "Mean miss by district (children)",
        "Mean miss by district (%)",
        "Authority total, over (+) or under (−)",
    ]
    return html.Div(
        words
        + [
            data_table(
                heads,
                body,
                numeric_from=2,
                empty="The history is too short for a backtest.",
                caption="Backtest: how far each method's forecast was from what happened",
            )
        ]
    )


@callback(
    Output(Id.FC_TARGETS, "children"),
    Input(Id.DATASET, "data"),
    Input(Id.FC_ENTRY, "value"),
    Input(Id.FC_SHIFT, "value"),
    Input(Id.FC_ATTRITION, "value"),
    Input(Id.FC_YEAR, "value"),
)
def update_targets(
    dataset_id: str | None, entry: Any, shift: Any, attrition: Any, year: Any
) -> Any:
    """Net and gross foster places and households to recruit by district and kind."""
    try:
        scenario = fv.Scenario.from_inputs(entry, shift, attrition)
        s = store()
        table = fv.targets(s, dataset_id, scenario)
        if table is None:
            return html.P(
                "This dataset has no carers register, so recruitment targets cannot be worked "
                "out. Add a carers CSV on the Data page.",
                className="muted",
            )
        y = min(max(int(year or 1), 1), fv.YEARS)
        exact = exact_counts_allowed()
        with protecting(s.get(dataset_id).secret):
            shown = fv.targets_table(table, year=y, total_code=s.authority.code, exact=exact)
        lost = fv.attrition(s, dataset_id, scenario)
    except ValueError as err:
        return _warning(str(err))
    except Exception as err:
        return error_alert(err)
    return targets_view(
        shown, year=y, total_code=s.authority.code, exact=exact, attrition=lost.source
    )


def targets_view(
    shown: pd.DataFrame, *, year: int, total_code: str, exact: bool, attrition: str = ""
) -> Any:
    totals = shown[shown["district_code"] == total_code]
    words = [
        f"{KIND_LABELS.get(r['placement_kind'], r['placement_kind'])}: recruit "
        f"{int(r['gross_households']):,} households gross ({int(r['gross_places']):,} places), "
        f"of which {int(r['net_households']):,} net ({int(r['net_places']):,} places) for the "
        f"growth in demand and today's gap within 20 miles; the rest replace the "
        f"{r['expected_losses']:.0f} places expected to be lost."
        for _, r in totals.iterrows()
    ]
    body = [
        html.Tr(
            [
                html.Td(
                    html.Strong(r["district_name"])
                    if r["district_code"] == total_code
                    else r["district_name"]
                ),  # fmt: skip
                html.Td(KIND_LABELS.get(r["placement_kind"], r["placement_kind"])),
                html.Td(r["children_now_text"], className="num"),
                html.Td(r["children_forecast_text"], className="num"),
                html.Td(f"{int(r['net_places']):,}", className="num"),
                html.Td(f"{r['expected_losses']:.1f}", className="num"),
                html.Td(f"{int(r['gross_places']):,}", className="num"),
                html.Td(f"{int(r['net_households']):,}", className="num"),
                html.Td(f"{int(r['gross_households']):,}", className="num"),
            ],
            className="total-row" if r["district_code"] == total_code else None,
        )
        for _, r in shown.iterrows()
    ]
    end = pd.Timestamp(shown["year_end"].iloc[0]).strftime("%d/%m/%Y") if len(shown) else ""
    heads = [
        "Home district",
        "Kind",
        "Foster children now",
        f"Expected {end}",
        "Net places",
        "Places lost",
        "Gross places",
        "Net households",
        "Gross households",
    ]
    note = (
        "Net = growth in foster children + the district's share of the children who, at that "
        "year end, could not all get a suitable place within 20 miles from today's carers (the "
        "coverage model on the forecast children, as on Recruitment planning's 'Plan for' and "
        "in placemap forecast --carers; never below 0); gross = net + the approved places "
        "expected to be lost by attrition"
        + (f" ({attrition})" if attrition else "")
        + ". Places and households are targets, not counts of children. "
        + (NO_SUPPRESSION_NOTE if exact else "Children: c is 0 to 6, others within 2.")
    )
    return html.Div(
        [html.P(w) for w in words]
        + [
            html.P(note, className="muted"),
            data_table(
                heads,
                body,
                numeric_from=2,
                caption=f"Foster places and households to recruit by the end of year {year}, "
                "by home district and kind",
            ),
        ]
    )
