"""Callbacks of the page shell: choose the default dataset and show the data banner."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, html

from app.callbacks import callback
from app.components import error_alert
from app.data.state import store
from app.ids import Id
from geo.errors import PlacemapError


@callback(Output(Id.DATASET, "data"), Input(Id.URL, "pathname"), State(Id.DATASET, "data"))
def ensure_dataset(_pathname: str | None, current: str | None) -> str | None:
    """Keep the chosen dataset; fall back to the default (demo or configured) one. When the
    configured data are unusable, None: each page then shows the reason as an alert."""
    s = store()
    try:
        return s.get(current).id if current else s.default_id()
    except PlacemapError:
        return None


@callback(Output(Id.DATASET_BADGE, "children"), Input(Id.DATASET, "data"))
def dataset_banner(dataset_id: str | None) -> html.Div:
    try:
        ds = store().get(dataset_id)
        a = store().analysis(ds.id)
    except PlacemapError as err:
        return error_alert(err)
    text = (
        f"{ds.label} · census at {a.as_at:%d %B %Y} · "
        f"{a.summary['children_in_census']:,} children looked after"
    )
    if ds.synthetic:
        return dbc.Alert(
            [html.Strong("Synthetic demo data: "), "no real child or carer. ", text],
            color="warning",
            className="banner mb-0 py-1 px-3 rounded-0",
        )
    return dbc.Alert(text, color="secondary", className="banner mb-0 py-1 px-3 rounded-0")
