"""Callbacks of the page shell: choose the default dataset and show the data banner."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, html

from app.callbacks import callback
from app.components import error_alert
from app.data.state import store
from app.ids import Id
from app.views import census_children_shown
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


@callback(Output(Id.NAV_ACCOUNT, "children"), Input(Id.URL, "pathname"))
def account_links(_pathname: str | None) -> list[Any]:
    """Admin and Sign out in the navigation bar, only where they work: none in local mode (no
    accounts: the administration page would refuse and signing out would change nothing),
    and Admin only for a user whose role may open it."""
    from app.auth import Permission, current_user, state, user_links

    if state().local_mode():
        return []
    user = current_user()
    allowed = {"/logout"} | ({"/admin"} if user and user.can(Permission.VIEW_AUDIT) else set())
    return [item for item in user_links() if item.children.href in allowed]


@callback(Output(Id.DATASET_BADGE, "children"), Input(Id.DATASET, "data"))
def dataset_banner(dataset_id: str | None) -> html.Div:
    try:
        ds = store().get(dataset_id)
        a = store().analysis(ds.id)
    except PlacemapError as err:
        return error_alert(err)
    text = (
        f"{ds.label} · census at {a.as_at:%d %B %Y} · "
        f"{census_children_shown(a, secret=ds.secret)} children looked after"
    )
    if ds.synthetic:
        return dbc.Alert(
            [html.Strong("Synthetic demo data: "), "no real child or carer. ", text],
            color="warning",
            className="banner mb-0 py-1 px-3 rounded-0",
        )
    return dbc.Alert(text, color="secondary", className="banner mb-0 py-1 px-3 rounded-0")
