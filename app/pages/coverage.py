"""Carer coverage and shortage areas: where children cannot be matched to a suitable approved
foster place within 20 miles of home. Carers appear only as counts per area, never as points."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import Input, Output, Patch, State, dcc, html, no_update

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
from app.coverage_view import result_with_edits
from app.data.state import store
from app.ids import Id
from app.map_assets import cells_geojson, districts_url
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
            dcc.Store(id=Id.CV_MAP_KEY),  # which map the browser holds (see update_coverage)
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
    Output(Id.CV_COHORT, "options"),
    Output(Id.CV_AREA, "options"),
    Output(Id.CV_ALERT, "children"),
    Output(Id.CV_MAP_TABLE, "children"),
    Output(Id.CV_STATUS, "children"),
    Output(Id.CV_MAP_KEY, "data"),
    Input(Id.DATASET, "data"),
    Input(Id.CV_MEASURE, "value"),
    State(Id.CV_MAP_KEY, "data"),
)
def update_coverage(
    dataset_id: str | None, measure: str, drawn: str | None = None
) -> tuple[Any, ...]:
    """The map, the headline figures and the squares' table. ``drawn`` says which map the
    browser holds: when it is this dataset's (only the measure changed), only the colours, the
    colour bar and the title are sent (a ``Patch``), and the table, which shows every measure,
    is not sent again."""
    try:
        with protecting(store().get(dataset_id).secret):  # the cell-key method's secret
            return _coverage(dataset_id, measure or "children_at_risk", drawn)
    except Exception as err:
        empty = figures._empty("No coverage map")
        return empty, [], [], [], error_alert(err), None, "Cannot show this view.", None


@callback(
    Output(Id.CV_RANKING, "children"),
    Input(Id.DATASET, "data"),
    Input(Id.CV_COHORT, "value"),
    Input(Id.CV_AREA, "value"),
)
def update_ranking(dataset_id: str | None, cohort: str, area: str | None = None) -> Any:
    """The shortage list for the chosen children and area (the map does not change)."""
    try:
        s = store()
        with protecting(s.get(dataset_id).secret):
            res = result_with_edits(s, dataset_id)
            groups = s.authority.groups if s.authority is not None else {}
            cohort = cohort if cohort in _cohorts(res) else "all"
            members = None if area not in groups else set(groups[area or ""])
            return _ranking(res.shortage, cohort, members, exact=exact_counts_allowed())
    except Exception as err:
        return error_alert(err)


def _cohorts(res: Any) -> list[str]:
    """The groups of children the shortage list can be for (those the model has)."""
    return [c for c in COHORT_LABELS if c in set(res.shortage["cohort"])] or ["all"]


def _map_key(dataset_id: str | None, exact: bool) -> str:
    """What the browser's map is drawn from: the dataset, the role's view and the base map."""
    s = store()
    return f"{s.get(dataset_id).id}|{'exact' if exact else 'protected'}|{s.settings.basemap}"


def _figure(dataset_id: str | None, measure: str, exact: bool) -> Any:
    """The whole coverage map for ``measure``, the number of squares drawn and the map's
    colours as a ``Patch`` (:func:`_colours_patch`), cached per dataset, measure and role's
    view (every session asking for the same map shares one)."""
    s = store()
    ds = s.get(dataset_id)
    return ds.cached(
        ("coverage-map", measure, exact, s.settings.basemap),
        lambda: _build_figure(dataset_id, measure, exact),
    )


def _build_figure(dataset_id: str | None, measure: str, exact: bool) -> Any:
    s = store()
    res = result_with_edits(s, dataset_id)
    grid, hover = area_layer(res, measure, exact=exact, every_square=True)
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
        cells_geojson(grid["area_id"].tolist(), size_m),
        grid,
        value_col="value",
        value_label=bar_label,
        colorscale=scale,
        outlines_geojson=s.browser_geojson,
        outlines_url=districts_url(s),
        line_codes=s.authority.district_codes,
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
    drawn = int(np.isfinite(grid["value"].to_numpy(dtype=float)).sum())
    return fig, drawn, _colours_patch(fig) if len(fig.data) > 1 else None


# the cells trace's properties a change of measure changes (None: back to plotly's default)
_COLOUR_PROPS = ("z", "name", "colorscale", "zmin", "zmax", "zauto", "colorbar", "showscale")


def _colours_patch(fig: Any) -> Patch:
    """The part of ``fig`` a change of measure changes: the squares' colours, the colour bar
    and the title (the cells, their hover text, the lines and names stay in the browser)."""
    patch = Patch()
    cells = fig.to_plotly_json()["data"][1]
    for prop in _COLOUR_PROPS:  # arrays as the figure has them (base64 typed arrays)
        patch["data"][1][prop] = cells.get(prop)
    patch["layout"]["title"]["text"] = fig.layout.title.text
    return patch


def _coverage(dataset_id: str | None, measure: str, drawn: str | None) -> tuple[Any, ...]:
    s = store()
    exact = exact_counts_allowed()
    fig, squares, colours = _figure(dataset_id, measure, exact)
    key = _map_key(dataset_id, exact)
    title = MEASURES[measure][0]
    status = f"Updated: the map shows {title.lower()} for {squares} 5 km squares."
    if drawn == key and colours is not None:  # the browser holds this dataset's map
        return colours, no_update, no_update, no_update, None, no_update, status, key
    res = result_with_edits(s, dataset_id)
    groups = s.authority.groups if s.authority is not None else {}
    options = [{"label": COHORT_LABELS[c], "value": c} for c in _cohorts(res)]
    areas = [{"label": "Every district", "value": WHOLE_AREA}] + [
        {"label": g, "value": g} for g in groups
    ]
    table = s.get(dataset_id).cached(
        ("coverage-squares-table", exact), lambda: _squares_table(res, exact=exact)
    )
    return fig, _kpis(res, exact=exact), options, areas, None, table, status, key


def _squares_table(res: Any, *, exact: bool) -> Any:
    """Every square with children or households and all its figures (the map's table: the
    same whatever the measure)."""
    every, _hover = area_layer(res, "children_at_risk", exact=exact, every_square=True)
    return square_table(every, None, table_id="cv-squares", exact=exact)


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
