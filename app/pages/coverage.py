"""Carer coverage and shortage areas: where children cannot be matched to a suitable approved
foster place within 20 miles of home. Carers appear only as counts per area, never as points."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import Input, Output, dcc, html

from app import figures
from app.callbacks import callback
from app.components import (
    data_table,
    error_alert,
    fmt_children,
    fmt_int,
    graph_figure,
    kpi,
    labelled_select,
    live_region,
    panel,
)
from app.coverage_areas import COVERAGE_MEASURES as MEASURES
from app.coverage_areas import (
    area_layer,
    colour_axis,
    count_text,
    ratio_text,
    sector_text,
    square_table,
)
from app.coverage_view import grid_geojson, result_with_edits
from app.data.state import store
from app.ids import Id
from app.map_labels import district_labels, map_bounds
from app.protection import protecting
from app.views import exact_counts_allowed

# The groups of children the shortage list can be for (the model's cohorts that are groups of
# children; its area-group cohorts are offered as areas instead).
COHORT_LABELS = {
    "all": "All children",
    "disabled": "Disabled children",
    "adolescents_11_plus": "Adolescents (11+)",
    "siblings": "Sibling groups",
}
WHOLE_AREA = "all"


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
                                    className="map-graph",
                                    config=figures.graph_config(scrollZoom=True),
                                )
                            ),
                            name="Map of 5 km squares coloured by the measure chosen above",
                            table_id=Id.CV_MAP_TABLE,
                        ),
                        lg=8,
                    ),
                    dbc.Col(
                        [
                            html.Div(
                                [
                                    html.H2("Shortage list", className="section-title"),
                                    html.P(
                                        "These two choices change the list below (the map "
                                        "shows every child).",
                                        className="muted",
                                    ),
                                    dbc.Row(
                                        [
                                            dbc.Col(
                                                labelled_select(
                                                    "Which children",
                                                    Id.CV_COHORT,
                                                    [{"label": "All children", "value": "all"}],
                                                    "all",
                                                ),
                                                sm=6,
                                            ),
                                            dbc.Col(
                                                labelled_select(
                                                    "Which area",
                                                    Id.CV_AREA,
                                                    [{"label": "Every district", "value": "all"}],
                                                    WHOLE_AREA,
                                                ),
                                                sm=6,
                                            ),
                                        ],
                                        className="g-2",
                                    ),
                                ],
                                className="card-panel mb-2",
                                id="cv-list-controls",
                            ),
                            html.Div(id=Id.CV_RANKING),
                        ],
                        lg=4,
                    ),
                ]
            ),
        ]
    )


@callback(
    Output(Id.CV_MAP, "figure"),
    Output(Id.CV_KPIS, "children"),
    Output(Id.CV_RANKING, "children"),
    Output(Id.CV_COHORT, "options"),
    Output(Id.CV_AREA, "options"),
    Output(Id.CV_ALERT, "children"),
    Output(Id.CV_MAP_TABLE, "children"),
    Output(Id.CV_STATUS, "children"),
    Input(Id.DATASET, "data"),
    Input(Id.CV_MEASURE, "value"),
    Input(Id.CV_COHORT, "value"),
    Input(Id.CV_AREA, "value"),
)
def update_coverage(
    dataset_id: str | None, measure: str, cohort: str, area: str | None = None
) -> tuple[Any, ...]:
    try:
        with protecting(store().get(dataset_id).secret):  # the cell-key method's secret
            return _coverage(
                dataset_id, measure or "children_at_risk", cohort or "all", area or WHOLE_AREA
            )
    except Exception as err:
        empty = figures._empty("No coverage map")
        return empty, [], [], [], [], error_alert(err), None, "Cannot show this view."


def _coverage(dataset_id: str | None, measure: str, cohort: str, area: str) -> tuple[Any, ...]:
    s = store()
    exact = exact_counts_allowed()
    res = result_with_edits(s, dataset_id)
    grid, hover = area_layer(res, measure, exact=exact)
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
        label_points=district_labels(s.boundaries, s.authority.district_codes),
        bounds=map_bounds(s.boundaries, s.authority.district_codes),
    )
    banded = colour_axis(measure, exact=exact)
    if banded:
        fig.update_traces(selector=dict(name=bar_label), **banded)
    groups = s.authority.groups if s.authority is not None else {}
    cohorts = [c for c in COHORT_LABELS if c in set(res.shortage["cohort"])] or ["all"]
    options = [{"label": COHORT_LABELS[c], "value": c} for c in cohorts]
    areas = [{"label": "Every district", "value": WHOLE_AREA}] + [
        {"label": g, "value": g} for g in groups
    ]
    cohort = cohort if cohort in cohorts else "all"
    area = area if area in groups else WHOLE_AREA
    status = (
        f"Updated: the map shows {title.lower()} for {len(grid)} 5 km squares; the shortage "
        f"list is for {COHORT_LABELS[cohort].lower()} in "
        f"{'every district' if area == WHOLE_AREA else area}."
    )
    table = square_table(grid, measure, table_id="cv-squares", exact=exact)
    members = None if area == WHOLE_AREA else set(groups[area])
    ranking = _ranking(res.shortage, cohort, members, exact=exact)
    return fig, _kpis(res, exact=exact), ranking, options, areas, None, table, status


def _kpis(res: Any, *, exact: bool) -> list[Any]:
    """The headline figures, each with what it means in plain words beside it."""
    total = res.district.iloc[-1]
    code = store().authority.code  # the gap: the comparison page's total cell
    gap = fmt_children(res.gap, exact=exact, cell=("coverage-gap", code, "gap"))
    at_risk = fmt_children(res.children_at_risk, exact=exact, cell=("at-risk", code))
    ppc = total["places_per_child_2sfca"]
    return [
        kpi(
            "Children (headline cohort, located)",
            fmt_children(res.children, exact=exact, cell=("coverage-children", code)),
            "children in care whose home address is known, in England",
        ),
        kpi("Approved fostering households", fmt_int(res.carers), "supplying places"),
        kpi(
            "Approved places",
            fmt_int(total["approved_places"]),
            f"{fmt_int(total['vacant_places'])} vacant",
        ),
        kpi(
            "Coverage gap",
            gap,
            f"however today's places are shared out, {gap} children cannot all get a suitable "
            "foster place within 20 miles of home",
            colour="warning" if res.gap else "light",
        ),
        kpi(
            "Children at risk",
            at_risk,
            f"children competing for too few places: any of these {at_risk} could be one of "
            f"the {gap} left without a place within 20 miles",
        ),
        kpi(
            "Places per child (2SFCA)",
            f"{ppc:.2f}" if np.isfinite(ppc) else "no children",
            "suitable places within 20 miles for each child, each place shared between the "
            "children who could use it (so none is counted twice)",
        ),
    ]


def _ranking(
    shortage: pd.DataFrame, cohort: str, members: set[str] | None, *, exact: bool
) -> html.Div:
    rows = shortage[(shortage["cohort"] == cohort) & (shortage["area_type"] == "sector")]
    if members is not None:
        rows = rows[rows["district_code"].isin(members)]
    rows = rows[rows["children_at_risk"] > 0].head(15)
    body = [
        html.Tr(
            [
                html.Td(i),
                html.Td(sector_text(r["area_id"])),
                html.Td(str(r["district_name"])),
                html.Td(count_text(r["children_at_risk"], exact=exact), className="num"),
                html.Td(count_text(r["children"], exact=exact), className="num"),
                html.Td(ratio_text(r["places_per_child_2sfca"]), className="num"),
            ]
        )
        for i, r in enumerate(rows.to_dict(orient="records"), start=1)
    ]
    hidden = "" if exact else " c: 0 to 6 children, not shown; other counts within 2."
    return panel(
        "Shortage areas (postcode sectors)",
        "Ranked by children who may go without a suitable approved place within 20 miles "
        "(children at risk); places per child counts the suitable places within 20 miles for "
        "each child." + hidden,
        data_table(
            ["#", "Sector", "District", "At risk", "Children", "Places per child"],
            body,
            numeric_from=3,
            empty="No shortage areas for these children in this area.",
            id="cv-ranking-table",
        ),
    )
