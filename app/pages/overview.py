"""Overview: choropleth of the districts by % placed within 20 (or 10) miles of home."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import Input, Output, dcc, html

from app import figures
from app.area_view import area_codes, area_name, relabel_total
from app.callbacks import callback
from app.components import (
    choice_group,
    error_alert,
    fmt_pct,
    graph_figure,
    kpi,
    live_region,
    scroll_box,
)
from app.data.state import store
from app.data.store import Filters, census_choices
from app.ids import Id
from app.map_assets import districts_url
from app.map_labels import district_labels, hatching, map_bounds
from app.style import band, band_colour
from app.views import compliance_view, district_hover
from geo.disclosure import PERTURBATION_NOTE
from geo.errors import PlacemapError

KIND_OPTIONS = [
    {"label": "All placement types", "value": "all"},
    {"label": "In-house foster care", "value": "in_house_foster"},
    {"label": "IFA foster care", "value": "ifa_foster"},
    {"label": "Residential", "value": "residential"},
    {"label": "Other (parents, supported accommodation…)", "value": "other"},
]
AGE_OPTIONS = [{"label": "All ages", "value": "all"}] + [
    {"label": f"Aged {b}", "value": b} for b in ("0-4", "5-10", "11-15", "16+")
]
DISABLED_OPTIONS = [
    {"label": "All children", "value": "all"},
    {"label": "Disabled children", "value": "disabled"},
    {"label": "Not disabled", "value": "not_disabled"},
]


# A district's target band in words beside its colour (meaning never by colour alone).
BAND_WORDS = {
    "met": "Met",
    "close": "Up to 5 below",
    "below": "5 to 15 below",
    "far": "Over 15 below",
    "none": "No data",
}


def _filter(label: str, control: Any, width: int = 2) -> dbc.Col:
    """A radio group under its group name, or a native select under its linked label."""
    if isinstance(control, dbc.RadioItems):
        body: Any = choice_group(label, control)
    else:
        body = [dbc.Label(label, html_for=control.id, className="filter-label"), control]
    return dbc.Col(
        body,
        xs=12,
        md=4,
        xl=width,
        xxl=width,
        className="mb-2",
    )


def layout(**_kwargs: Any) -> html.Div:
    s = store()
    groups = [{"label": "All areas", "value": "all"}] + [
        {"label": g, "value": g} for g in s.authority.groups
    ]
    return html.Div(
        [
            html.H1(
                f"How far from home are {s.authority.name}'s children placed?",
                className="page-title",
            ),
            html.P(
                "Share of children in care placed within 20 miles of their originating address, "
                "by district (DfE SSDA903 distance; unaccompanied asylum-seeking children and "
                "short breaks excluded, as in the sufficiency strategy).",
                className="lead-text",
            ),
            html.P(PERTURBATION_NOTE, className="muted small", id="ov-disclosure-note"),
            dbc.Row(
                [
                    _filter(
                        "Distance",
                        dbc.RadioItems(
                            id=Id.OV_THRESHOLD,
                            value=20,
                            inline=True,
                            options=[
                                {"label": "20 miles", "value": 20},
                                {"label": "10 miles", "value": 10},
                            ],
                        ),
                    ),
                    _filter(
                        "Group children by",
                        dbc.RadioItems(
                            id=Id.OV_VIEW,
                            value="home",
                            inline=True,
                            options=[
                                {"label": "Home district", "value": "home"},
                                {"label": "Placement district", "value": "placement"},
                            ],
                        ),
                    ),
                    _filter(
                        "Census date (as at)",
                        # options and value: the dataset in use (census_options below)
                        dbc.Select(id=Id.OV_ASAT, options=[], value=None),
                        width=2,
                    ),
                ],
                className="filters filters-top g-2",
            ),
            dbc.Row(
                [
                    _filter(
                        "Disability",
                        dbc.Select(
                            id=Id.OV_DISABLED,
                            options=DISABLED_OPTIONS,
                            value="all",
                        ),
                    ),
                    _filter(
                        "Age",
                        dbc.Select(id=Id.OV_AGE, options=AGE_OPTIONS, value="all"),
                    ),
                    _filter(
                        "Placement type",
                        dbc.Select(id=Id.OV_KIND, options=KIND_OPTIONS, value="all"),
                    ),
                    _filter(
                        "Area",
                        dbc.Select(id=Id.OV_GROUP, options=groups, value="all"),
                        width=2,
                    ),
                ],
                className="filters filters-bottom g-2",
            ),
            html.Div(id=Id.OV_ALERT),
            live_region(Id.OV_STATUS),
            dbc.Row(id=Id.OV_KPIS, className="g-2 mb-2"),
            dbc.Row(
                [
                    dbc.Col(
                        graph_figure(
                            dcc.Loading(
                                dcc.Graph(
                                    id=Id.OV_MAP,
                                    className="map-graph",  # its height: the panel's (app.css)
                                    config=figures.graph_config(scrollZoom=True),
                                )
                            ),
                            name="Map of the districts coloured by their target band: the share "
                            "of children placed within the distance",
                            beside=Id.OV_TABLE,
                        ),
                        lg=8,
                    ),
                    dbc.Col(html.Div(id=Id.OV_TABLE), lg=4),
                ]
            ),
        ]
    )


@callback(
    Output(Id.OV_ASAT, "options"),
    Output(Id.OV_ASAT, "value"),
    Input(Id.DATASET, "data"),
)
def census_options(dataset_id: str | None) -> tuple[list[dict[str, str]], str | None]:
    """The census dates of the dataset in use (quarter ends and the latest date), its own
    census date (chosen on the Data page) selected."""
    try:
        ds = store().get(dataset_id)
        dates = census_choices(ds)
    except PlacemapError:
        return [], None
    options = [{"label": f"{d:%d %b %Y}", "value": d.isoformat()} for d in dates]
    return options, ds.as_at.isoformat() if ds.as_at else None


@callback(
    Output(Id.OV_MAP, "figure"),
    Output(Id.OV_KPIS, "children"),
    Output(Id.OV_TABLE, "children"),
    Output(Id.OV_ALERT, "children"),
    Output(Id.OV_STATUS, "children"),
    Input(Id.DATASET, "data"),
    Input(Id.OV_THRESHOLD, "value"),
    Input(Id.OV_VIEW, "value"),
    Input(Id.OV_DISABLED, "value"),
    Input(Id.OV_AGE, "value"),
    Input(Id.OV_KIND, "value"),
    Input(Id.OV_GROUP, "value"),
    Input(Id.OV_ASAT, "value"),
)
def update_overview(
    dataset_id: str | None,
    threshold: int,
    view: str,
    disabled: str,
    age: str,
    kind: str,
    group: str,
    as_at: str | None,
) -> tuple[Any, Any, Any, Any, Any]:
    """Map, KPI cards, district list and the sentence read out, for the chosen filters."""
    try:
        filters = Filters(
            as_at=date.fromisoformat(as_at) if as_at else None,
            disabled=disabled or "all",
            age_band=age or "all",
            kind=kind or "all",
            group=group or "all",
        )
        ds = store().get(dataset_id)
        # one census date for every page: the dataset's when none is chosen (as in the key)
        filters = replace(filters, as_at=filters.as_at or ds.as_at)
        distance, by = int(threshold or 20), view or "home"
        # every session asking for the same filters shares one build of the outputs
        return ds.cached(
            ("overview", filters, distance, by), lambda: _overview(ds.id, distance, by, filters)
        )
    except Exception as err:  # shown as an alert, never a traceback
        return figures._empty("No map"), [], [], error_alert(err), "Cannot show this view."


def _overview(
    dataset_id: str | None, threshold: int, view: str, filters: Filters
) -> tuple[Any, Any, Any, Any, Any]:
    s = store()
    v = compliance_view(s, dataset_id, filters, threshold=threshold, view=view)
    target = (
        s.authority.target_pct_within_20
        if threshold == 20
        else s.authority.target_pct_within_10_foster
    )
    codes = s.authority.district_codes
    # by home district, an area's children all live in it: the other districts are drawn as
    # outside the area; by placement district every district may hold some of them
    inside = area_codes(s.authority, filters.group) if view == "home" else codes
    outside = [c for c in codes if c not in inside]
    area = area_name(s.authority, filters.group)
    districts = v.table[v.table["district_code"].isin(inside)]
    hover = district_hover(districts, threshold)
    where = "home" if view == "home" else "placement"
    title = f"% placed within {threshold} miles, by {where} district (as at {v.as_at:%d %b %Y})"
    fig = figures.district_map(
        districts_url(s),
        districts,
        value_col="pct_shown",
        target=target,
        title=title,
        hover=hover,
        context_codes=v.context_codes,
        label_points=district_labels(s.boundaries, codes),
        basemap=s.settings.basemap,
        note=v.map_note,
        bounds=map_bounds(s.boundaries, codes),
        outside_codes=outside,
        outside_hatch=hatching(s.boundaries, outside, codes),
    )
    total = v.table.iloc[-1]
    kpis = [
        kpi(
            f"{area}: within {threshold} miles",
            fmt_pct(total["pct_shown"]),
            f"of {total['known_shown']} children with a known distance · target {target:g} %",
            colour="primary" if (total["pct_shown"] or 0) >= target else "warning",
        ),
        kpi(
            "Children in the measure",
            total["children_shown"],
            "after filters; UASC and short breaks excluded",
        ),
        kpi(
            "Distance not known",
            total["not_known_shown"],
            "missing, invalid or unknown postcodes; home outside England",
        ),
        kpi(
            "UASC excluded",
            v.excluded["uasc"],
            f"unaccompanied asylum-seeking children, all of {s.authority.name} at the census "
            "date: the other filters do not apply",
        ),
        kpi(
            "Short breaks excluded",
            v.excluded["short_break"],
            f"legal status V3/V4, all of {s.authority.name} at the census date: the other "
            "filters do not apply",
        ),
        kpi(
            "Median distance",
            "–" if not np.isfinite(total["median_miles"]) else f"{total['median_miles']:.1f} mi",
            "children with a known distance",
        ),
    ]
    status = (
        f"Updated: {title}. {area}: {fmt_pct(total['pct_shown'])} within "
        f"{threshold} miles (target {target:g} %)."
    )
    listed = v.table[~v.table["district_code"].isin(outside)]
    if outside:  # an area's own children: none is from outside the authority
        listed = listed[listed["district_code"].isin(inside) | listed["is_total"]]
    listed = relabel_total(listed, s.authority, filters.group)
    return fig, kpis, _district_list(listed, threshold, target), None, status


def _district_list(table: pd.DataFrame, threshold: int, target: float) -> html.Div:
    rows = []
    for r in table.to_dict(orient="records"):
        colour = band_colour(r["pct_shown"], target)
        words = BAND_WORDS[band(r["pct_shown"], target)]
        rows.append(
            html.Tr(
                [
                    html.Td(
                        [
                            html.Span(className="swatch", style={"backgroundColor": colour}),
                            " " + words,
                        ],
                        className="band-cell",
                    ),
                    html.Td(r["district_name"]),
                    html.Td(r["children_shown"], className="num"),
                    html.Td(r["pct_text"], className="num"),
                ],
                className="total-row" if r["is_total"] else None,
            )
        )
    table = dbc.Table(
        [
            html.Caption(
                f"Districts: children and % placed within {threshold} miles, with the target "
                f"band (points below the {target:g} % target)."
            ),
            html.Thead(
                html.Tr(
                    [
                        html.Th("Target band", scope="col"),
                        html.Th("District", scope="col"),
                        html.Th("Children", className="num", scope="col"),
                        html.Th(f"% within {threshold} mi", className="num", scope="col"),
                    ]
                )
            ),
            html.Tbody(rows),
        ],
        size="sm",
        hover=True,
        className="district-list",
        striped=False,
    )
    return scroll_box(table, label="Districts and their target bands")
