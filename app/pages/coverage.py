"""Carer coverage and shortage areas: where children cannot be matched to a suitable approved
foster place within 20 miles of home. Carers appear only as counts per area, never as points."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, dcc, html

from app import figures
from app.callbacks import callback
from app.components import (
    COVERAGE_MEASURES as MEASURES,
)
from app.components import (
    area_layer,
    data_table,
    error_alert,
    fmt_children,
    fmt_int,
    graph_figure,
    kpi,
    labelled_select,
    live_region,
    panel,
    shown_count,
    square_table,
)
from app.coverage_view import grid_geojson, result_with_edits
from app.data.state import store
from app.ids import Id
from app.views import exact_counts_allowed

# measure -> (title, colour-bar label, kind, colour scale). Single-hue sequential scales are
# colour-blind safe: oranges where more is worse, blues where more is better.
COHORT_LABELS = {
    "all": "All children",
    "disabled": "Disabled children",
    "adolescents_11_plus": "Adolescents (11+)",
    "siblings": "Sibling groups",
}


def layout(**_kwargs: Any) -> html.Div:
    return html.Div(
        [
            html.H1("Carer coverage and shortage areas", className="page-title"),
            html.P(
                "Where are children in care from, and can each be matched to a suitable approved "
                "foster place within 20 miles of home when every place takes one child? Areas are "
                "5 km squares; carers and children are shown only as counts per area.",
                className="lead-text",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        labelled_select(
                            "Show on the map",
                            Id.CV_MEASURE,
                            [{"label": v[0], "value": k} for k, v in MEASURES.items()],
                            "children_at_risk",
                        ),
                        md=6,
                        xl=5,
                    ),
                    dbc.Col(
                        labelled_select(
                            "Shortage list for",
                            Id.CV_COHORT,
                            [{"label": "All children", "value": "all"}],
                            "all",
                        ),
                        md=4,
                        xl=3,
                    ),
                ],
                className="filters g-2",
            ),
            html.Div(id=Id.CV_ALERT),
            live_region(Id.CV_STATUS),
            dbc.Row(id=Id.CV_KPIS, className="g-2 mb-2"),
            dbc.Row(
                [
                    dbc.Col(
                        graph_figure(
                            dcc.Loading(
                                dcc.Graph(
                                    id=Id.CV_MAP,
                                    style={"height": "640px"},
                                    config=figures.graph_config(scrollZoom=True),
                                )
                            ),
                            name="Map of 5 km squares coloured by the measure chosen above",
                            table_id=Id.CV_MAP_TABLE,
                        ),
                        lg=8,
                    ),
                    dbc.Col(html.Div(id=Id.CV_RANKING), lg=4),
                ]
            ),
        ]
    )


@callback(
    Output(Id.CV_MAP, "figure"),
    Output(Id.CV_KPIS, "children"),
    Output(Id.CV_RANKING, "children"),
    Output(Id.CV_COHORT, "options"),
    Output(Id.CV_ALERT, "children"),
    Output(Id.CV_MAP_TABLE, "children"),
    Output(Id.CV_STATUS, "children"),
    Input(Id.DATASET, "data"),
    Input(Id.CV_MEASURE, "value"),
    Input(Id.CV_COHORT, "value"),
)
def update_coverage(dataset_id: str | None, measure: str, cohort: str) -> tuple[Any, ...]:
    try:
        return _coverage(dataset_id, measure or "children_at_risk", cohort or "all")
    except Exception as err:
        empty = figures._empty("No coverage map")
        return empty, [], [], [], error_alert(err), None, "Cannot show this view."


def _coverage(dataset_id: str | None, measure: str, cohort: str) -> tuple[Any, ...]:
    s = store()
    res = result_with_edits(s, dataset_id)
    grid, hover = area_layer(res, measure)
    size_m = (
        float(
            res.areas["area_type"].str.extract(r"grid_(\d+)km")[0].dropna().astype(float).iloc[0]
            * 1000
        )
        if len(grid)
        else 5000.0
    )
    title, bar_label, _kind, scale = MEASURES[measure]
    codes = [f["id"] for f in s.browser_geojson["features"]]
    fig = figures.area_map(
        grid_geojson(grid["area_id"].tolist(), size_m),
        grid,
        value_col="value",
        value_label=bar_label,
        colorscale=scale,
        outlines_geojson=s.browser_geojson,
        outline_codes=codes,
        title=title,
        hover=hover,
        basemap=s.settings.basemap,
        note=getattr(s.boundaries, "label", ""),
    )
    total = res.district.iloc[-1]
    exact = exact_counts_allowed()
    kpis = [
        kpi(
            "Children (headline cohort, located)",
            fmt_children(res.children, exact=exact),
            "originating address known, in England",
        ),
        kpi("Approved fostering households", fmt_int(res.carers), "supplying places"),
        kpi(
            "Approved places",
            fmt_int(total["approved_places"]),
            f"{fmt_int(total['vacant_places'])} vacant",
        ),
        kpi(
            "Coverage gap",
            fmt_children(res.gap, exact=exact),
            "children who cannot be matched to a suitable place within 20 miles",
            colour="warning" if res.gap else "light",
        ),
        kpi(
            "Children at risk",
            fmt_children(res.children_at_risk, exact=exact),
            "left out by some best matching",
        ),
        kpi(
            "Places per child (2SFCA)",
            f"{total['places_per_child_2sfca']:.2f}",
            "no place counted twice",
        ),
    ]
    cohorts = sorted(res.shortage["cohort"].unique(), key=lambda c: (c != "all", c))
    options = [{"label": COHORT_LABELS.get(c, c.replace("_", " ")), "value": c} for c in cohorts]
    status = (
        f"Updated: the map shows {title.lower()} for {len(grid)} 5 km squares; the shortage "
        f"list is for {COHORT_LABELS.get(cohort, cohort).lower()}."
    )
    table = square_table(grid, measure, table_id="cv-squares")
    return fig, kpis, _ranking(res.shortage, cohort), options, None, table, status


def _ranking(shortage: pd.DataFrame, cohort: str) -> html.Div:
    rows = shortage[(shortage["cohort"] == cohort) & (shortage["area_type"] == "sector")]
    rows = rows[rows["children_at_risk"] > 0].head(15)
    body = [
        html.Tr(
            [
                html.Td(int(r["rank"])),
                html.Td(str(r["area_id"])),
                html.Td(str(r["district_name"])),
                html.Td(shown_count(float(r["children_at_risk"])), className="num"),
                html.Td(shown_count(float(r["children"])), className="num"),
                html.Td(f"{r['places_per_child_2sfca']:.2f}", className="num"),
            ]
        )
        for r in rows.to_dict(orient="records")
    ]
    return panel(
        "Shortage areas (postcode sectors)",
        "Ranked by children who may go without a suitable approved place within 20 miles; "
        "counts of 1–5 are shown as a range.",
        data_table(
            ["#", "Sector", "District", "At risk", "Children", "Places per child"],
            body,
            numeric_from=3,
            empty="No shortage areas for this group.",
        ),
    )
