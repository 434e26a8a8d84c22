"""Recruitment planning: where would new foster households bring the most children within 20
miles of a suitable place? Plus what-if: choose a 5 km square (from the list, by keyboard, or by
clicking the map) to add or remove a hypothetical household and watch the district figures
change."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import MissingCallbackContextException

from app import figures
from app.background import progress_panel, reporter
from app.callbacks import callback
from app.components import (
    area_layer,
    choice_group,
    data_table,
    error_alert,
    fmt_children,
    graph_figure,
    grid_reference,
    live_region,
    panel,
    shown_count,
    square_table,
)
from app.coverage_view import (
    Edit,
    grid_geojson,
    recruitment_baselines,
    recruitment_plan,
    result_with_edits,
    sector_lonlat,
)
from app.data.state import store
from app.ids import Id
from app.views import exact_counts_allowed, gap_text, suppressed_gap
from geo.disclosure import is_small
from geo.ssda903 import describe_categories

CATEGORY_OPTIONS = [
    {"label": "Ages 0-4", "value": "0-4"},
    {"label": "Ages 5-10", "value": "5-10"},
    {"label": "Ages 11-15", "value": "11-15"},
    {"label": "Ages 16+", "value": "16+"},
    {"label": "Disability", "value": "disability"},
    {"label": "Sibling groups", "value": "siblings"},
    {"label": "Parent and child", "value": "parent_and_child"},
]
DEFAULT_CATEGORIES = ["0-4", "5-10", "11-15", "16+", "disability", "siblings"]
MAX_EDITS = 50


def layout(**_kwargs: Any) -> html.Div:
    return html.Div(
        [
            html.H1("Recruitment planning", className="page-title"),
            html.P(
                "Choose how many new fostering households to recruit and what they would offer: "
                "placemap suggests the postcode sectors where they would bring the most children "
                "within 20 miles of a suitable place (a capacitated maximal-covering search). "
                "Then try your own sites: choose a 5 km square from the list (or click one "
                "on the map) and add or remove a hypothetical household there.",
                className="lead-text",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            dbc.Label("New households", html_for=Id.RC_N, className="filter-label"),
                            dbc.Input(id=Id.RC_N, type="number", min=1, max=50, step=1, value=10),
                        ],
                        xs=6,
                        md=2,
                    ),
                    dbc.Col(
                        [
                            dbc.Label(
                                "Places each", html_for=Id.RC_PLACES, className="filter-label"
                            ),
                            dbc.Input(
                                id=Id.RC_PLACES, type="number", min=1, max=6, step=1, value=2
                            ),
                        ],
                        xs=6,
                        md=2,
                    ),
                    dbc.Col(
                        choice_group(
                            "Approved for",
                            dbc.Checklist(
                                id=Id.RC_CATEGORIES,
                                options=CATEGORY_OPTIONS,
                                value=DEFAULT_CATEGORIES,
                                inline=True,
                            ),
                        ),
                        md=6,
                    ),
                    dbc.Col(
                        dbc.Button(
                            "Suggest areas", id=Id.RC_RUN, color="primary", className="mt-4"
                        ),
                        md=2,
                    ),
                ],
                className="filters g-2",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            dbc.Label(
                                "What-if: 5 km square (most children at risk first)",
                                html_for=Id.RC_AREA,
                                className="filter-label",
                            ),
                            dbc.Select(id=Id.RC_AREA, options=[], value=None),
                        ],
                        md=6,
                        xl=4,
                    ),
                    dbc.Col(
                        [
                            dbc.Button(
                                "Add a household here",
                                id=Id.RC_ADD,
                                color="primary",
                                className="me-2 mt-md-4",
                            ),
                            dbc.Button(
                                "Remove one added here",
                                id=Id.RC_REMOVE,
                                color="secondary",
                                outline=True,
                                className="me-2 mt-md-4",
                            ),
                            dbc.Button(
                                "Reset what-if",
                                id=Id.RC_RESET,
                                color="secondary",
                                outline=True,
                                className="mt-md-4",
                            ),
                        ],
                        md=6,
                        xl=4,
                    ),
                    dbc.Col(
                        choice_group(
                            "Clicking a square on the map",
                            dbc.RadioItems(
                                id=Id.RC_MODE,
                                value="add",
                                inline=True,
                                options=[
                                    {
                                        "label": "adds a hypothetical household there",
                                        "value": "add",
                                    },
                                    {"label": "removes one added there", "value": "remove"},
                                ],
                            ),
                        ),
                        xl=4,
                    ),
                ],
                className="filters g-2",
            ),
            dcc.Store(id=Id.RC_EDITS, data=[]),
            dcc.Store(id=Id.RC_SEARCHED, data=_searched(10, 2, DEFAULT_CATEGORIES)),
            progress_panel(
                wrapper_id=Id.RC_WORKING,
                bar_id=Id.RC_PROGRESS,
                text_id=Id.RC_PROGRESS_TEXT,
                cancel_id=Id.RC_CANCEL,
                what="the search",
            ),
            html.Div(id=Id.RC_ALERT),
            live_region(Id.RC_STATUS),
            dbc.Row(
                [
                    dbc.Col(
                        graph_figure(
                            dcc.Loading(
                                dcc.Graph(
                                    id=Id.RC_MAP,
                                    style={"height": "640px"},
                                    config=figures.graph_config(scrollZoom=True),
                                )
                            ),
                            name="Map of children at risk by 5 km square, with the suggested "
                            "sectors and your hypothetical households",
                            table_id=Id.RC_MAP_TABLE,
                        ),
                        lg=7,
                    ),
                    dbc.Col([html.Div(id=Id.RC_SUGGESTIONS), html.Div(id=Id.RC_DISTRICTS)], lg=5),
                ]
            ),
        ]
    )


def _categories(values: list[str] | None) -> str:
    return ";".join(values or DEFAULT_CATEGORIES[:4])


@callback(
    Output(Id.RC_EDITS, "data"),
    Input(Id.RC_MAP, "clickData"),
    Input(Id.RC_RESET, "n_clicks"),
    Input(Id.RC_ADD, "n_clicks"),
    Input(Id.RC_REMOVE, "n_clicks"),
    State(Id.RC_EDITS, "data"),
    State(Id.RC_MODE, "value"),
    State(Id.RC_PLACES, "value"),
    State(Id.RC_CATEGORIES, "value"),
    State(Id.RC_AREA, "value"),
    prevent_initial_call=True,
)
def record_edit(
    click: dict | None,
    _reset: int | None,
    _add: int | None,
    _remove: int | None,
    edits: list[dict] | None,
    mode: str,
    places: int | None,
    categories: list[str] | None,
    area: str | None,
) -> Any:
    """Append the clicked (or chosen) 5 km square as an add/remove edit (only the cell id is
    kept)."""
    if ctx.triggered_id == Id.RC_RESET:
        return []
    if ctx.triggered_id in (Id.RC_ADD, Id.RC_REMOVE):
        action = "add" if ctx.triggered_id == Id.RC_ADD else "remove"
        return apply_choice(area, edits, action, places, categories)
    return apply_click(click, edits, mode, places, categories)


def apply_click(
    click: dict | None,
    edits: list[dict] | None,
    mode: str,
    places: int | None,
    categories: list[str] | None,
) -> Any:
    """The edit list after a click on the map (``no_update`` when no grid cell was hit)."""
    return apply_choice(_clicked_cell(click), edits, mode, places, categories)


def apply_choice(
    cell: str | None,
    edits: list[dict] | None,
    action: str,
    places: int | None,
    categories: list[str] | None,
) -> Any:
    """The edit list after adding (or removing) a household in ``cell``, a grid cell id
    chosen from the list or clicked on the map (``no_update`` when it is not one)."""
    if not _is_cell(cell):
        return no_update
    edits = list(edits or [])[-MAX_EDITS + 1 :]
    edits.append(
        {
            "action": "remove" if action == "remove" else "add",
            "cell": cell,
            "places": int(places or 1),
            "categories": _categories(categories),
        }
    )
    return edits


def _is_cell(loc: Any) -> bool:
    return isinstance(loc, str) and "_" in loc and loc.replace("_", "").isdigit()


def _clicked_cell(click: dict | None) -> str | None:
    for point in (click or {}).get("points", []):
        loc = point.get("location") or point.get("customdata")
        if _is_cell(loc):
            return str(loc)
    return None


@callback(
    Output(Id.RC_MAP, "figure"),
    Output(Id.RC_SUGGESTIONS, "children"),
    Output(Id.RC_DISTRICTS, "children"),
    Output(Id.RC_ALERT, "children"),
    Output(Id.RC_MAP_TABLE, "children"),
    Output(Id.RC_AREA, "options"),
    Output(Id.RC_AREA, "value"),
    Output(Id.RC_STATUS, "children"),
    Input(Id.DATASET, "data"),
    Input(Id.RC_SEARCHED, "data"),
    Input(Id.RC_EDITS, "data"),
    State(Id.RC_N, "value"),
    State(Id.RC_PLACES, "value"),
    State(Id.RC_CATEGORIES, "value"),
    State(Id.RC_AREA, "value"),
)
def update_recruitment(
    dataset_id: str | None,
    _run: int | None,
    edits: list[dict] | None,
    households: int | None,
    places: int | None,
    categories: list[str] | None,
    area: str | None = None,
) -> tuple[Any, ...]:
    """Map, suggestions, what-if table, the squares as a table and as the what-if list, and
    the sentence read out (what changed). ``_run``: the parameters of the last search finished
    in the background (:func:`search_sites`; the layout's defaults before the first), used
    instead of the fields, which may have changed since (or belong to a cancelled search)."""
    if isinstance(_run, dict):
        households, places = _run.get("households"), _run.get("places")
        categories = _run.get("categories")
    try:
        out = _recruitment(
            dataset_id,
            edits or [],
            int(households or 10),
            int(places or 1),
            _categories(categories),
        )
    except Exception as err:
        empty = figures._empty("No map")
        return empty, None, None, error_alert(err), None, [], None, "Cannot show this view."
    fig, suggestions, districts, grid, status = out
    options = [
        {"label": _square_label(r), "value": str(r["area_id"])}
        for r in grid.sort_values(["value", "area_id"], ascending=[False, True]).to_dict(
            orient="records"
        )
    ]
    values = {o["value"] for o in options}
    chosen = area if area in values else (options[0]["value"] if options else None)
    table = square_table(grid, "children_at_risk", table_id="rc-squares")
    return fig, suggestions, districts, None, table, options, chosen, status


@callback(
    Output(Id.RC_SEARCHED, "data"),
    Input(Id.RC_RUN, "n_clicks"),
    State(Id.DATASET, "data"),
    State(Id.RC_N, "value"),
    State(Id.RC_PLACES, "value"),
    State(Id.RC_CATEGORIES, "value"),
    background=True,
    progress=[Output(Id.RC_PROGRESS, "value"), Output(Id.RC_PROGRESS_TEXT, "children")],
    progress_default=["0", ""],
    running=[
        (Output(Id.RC_WORKING, "hidden"), False, True),
        (Output(Id.RC_RUN, "disabled"), True, False),
    ],
    cancel=[Input(Id.RC_CANCEL, "n_clicks")],
    prevent_initial_call=True,
)
def search_sites(
    set_progress: Any,
    _run: int | None,
    dataset_id: str | None,
    households: int | None,
    places: int | None,
    categories: list[str] | None,
) -> dict[str, Any]:
    """'Suggest areas' in a background process: the search and its baselines, with progress;
    returns the parameters, and :func:`update_recruitment` draws the handed-over result."""
    params = _searched(households, places, categories)
    n, each, chosen = params["households"], params["places"], params["categories"]
    show = reporter(set_progress)
    s = store()
    try:
        plan = recruitment_plan(
            s, dataset_id, households=n, places=each, categories=_categories(chosen), progress=show
        )
        recruitment_baselines(s, dataset_id, plan, progress=show)
    except Exception:  # noqa: BLE001  update_recruitment shows the message
        pass
    return params


def _searched(households: int | None, places: int | None, categories: Any) -> dict[str, Any]:
    """The parameters of a search, as kept in the browser (no counts)."""
    n, each = max(1, min(int(households or 10), 50)), max(1, min(int(places or 1), 6))
    chosen = list(categories or DEFAULT_CATEGORIES[:4])
    return {"households": n, "places": each, "categories": chosen}


def _district_words(name: Any) -> str:
    return "outside the districts" if pd.isna(name) or not name else str(name)


def _square_label(r: dict) -> str:
    return (
        f"{grid_reference(str(r['area_id']))}, {_district_words(r['district_name'])}"
        f" (children at risk: {shown_count(float(r['children_at_risk']))})"
    )


def parse_edits(edits: list[dict]) -> tuple[Edit, ...]:
    out = []
    for e in edits[-MAX_EDITS:]:
        try:
            out.append(
                Edit(
                    action=str(e["action"]),
                    cell=str(e["cell"]),
                    places=max(1, min(int(e.get("places", 1)), 6)),
                    categories=str(e.get("categories", "")),
                )
            )
        except (KeyError, TypeError, ValueError):
            continue
    return tuple(out)


def _recruitment(
    dataset_id: str | None, edits: list[dict], households: int, places: int, categories: str
) -> tuple[Any, Any, Any, pd.DataFrame, str]:
    s = store()
    households = max(1, min(households, 50))
    base = result_with_edits(s, dataset_id)
    what_if = parse_edits(edits)
    res = result_with_edits(s, dataset_id, what_if) if what_if else base
    plan = recruitment_plan(
        s, dataset_id, households=households, places=places, categories=categories
    )
    grid, hover = area_layer(res, "children_at_risk")
    size_m = 5000.0
    sugg = plan.suggestions
    hide = _hide_gains(plan)
    sites = sector_lonlat(sugg["sector"].drop_duplicates().tolist(), s) if len(sugg) else None
    highlight = None
    if sites is not None and len(sites):
        first = sugg.drop_duplicates("sector").set_index("sector")
        gains = sugg.groupby("sector")["marginal_gain"].sum()
        counts = sugg.groupby("sector").size()
        highlight = sites.assign(
            label=[f"#{int(first.loc[x, 'rank'])} {x}" for x in sites["sector"]],
            hover=[
                f"{x}: {counts[x]} household(s), "
                + ("children gained hidden (small numbers)" if hide else f"+{gains[x]} children")
                + " within 20 miles"
                for x in sites["sector"]
            ],
        )
    added = sorted({e.cell for e in what_if if e.action == "add"})
    codes = [f["id"] for f in s.browser_geojson["features"]]
    fig = figures.area_map(
        grid_geojson(grid["area_id"].tolist(), size_m),
        grid,
        value_col="value",
        value_label="Children at risk",
        colorscale="Oranges",
        outlines_geojson=s.browser_geojson,
        outline_codes=codes,
        title="Children at risk by 5 km square · ★ suggested sectors",
        hover=hover,
        basemap=s.settings.basemap,
        highlight=highlight,
        note=getattr(s.boundaries, "label", ""),
    )
    if added:
        from app.coverage_view import cell_centre_lonlat

        lon, lat = cell_centre_lonlat(added, size_m)
        fig.add_scattergeo(
            lon=lon,
            lat=lat,
            mode="markers",
            name="Hypothetical households",
            marker=dict(
                size=12, color="#5e3c99", symbol="diamond", line=dict(color="white", width=1)
            ),
            hoverinfo="name",
        )
    changes = _district_change(
        base.district, res.district, len(what_if), exact=exact_counts_allowed(), edits=what_if
    )
    if _triggered() == Id.RC_EDITS:
        status = (
            f"What-if updated: {len(what_if)} edit(s). {_total_gap_words(base, res)}"
            if what_if
            else "What-if reset: no edits."
        )
    else:
        status = f"Suggestions updated: coverage gap {_gap_words(plan)} more children within reach."
    return (
        fig,
        _suggestions(plan, recruitment_baselines(s, dataset_id, plan)),
        changes,
        grid,
        status,
    )


def _triggered() -> Any:
    """The input that fired the running callback; None when called directly (tests)."""
    try:
        return ctx.triggered_id
    except MissingCallbackContextException:  # called directly, not by Dash
        return None


def _hide_gains(plan: Any) -> bool:
    """Whether the plan's gains must be hidden: when the gap before or after is 1-5 and the user
    may not see small numbers, any gain would give it away (before = after + gain)."""
    if exact_counts_allowed():
        return False
    return bool(is_small([plan.gap_before, plan.gap_after]).any())


def _baseline_note(plan: Any, cmp: Any) -> str:
    """How the plan compares with naive siting, in a sentence."""
    if not plan.total_gain or _hide_gains(plan):
        return ""
    used = len(plan.suggestions)
    enough = (
        f" {used} of the {plan.households} households are enough: after them no further "
        "child can be reached."
        if used < plan.households
        else ""
    )
    code = cmp.biggest_district_code
    name = store().authority.districts.get(code, code) if code else "the biggest district"
    return (
        f" The same households in random sectors would bring {cmp.random_mean:.1f} on average "
        f"({len(cmp.random_draws)} draws); in {name}, where most children come from, "
        f"{cmp.biggest_district}.{enough}"
    )


def _gap_words(plan: Any) -> str:
    """ "12 → 0 children: 12"; the gap counts children, so a small one (1-5) is c for users
    without unsuppressed access — and then the gain too, which would give it away."""
    exact = exact_counts_allowed()
    before = fmt_children(plan.gap_before, exact=exact)
    after = fmt_children(plan.gap_after, exact=exact)
    gain = "c" if _hide_gains(plan) else plan.total_gain
    return f"{before} → {after} children: {gain}"


def _suggestions(plan: Any, cmp: Any) -> html.Div:
    sugg = plan.suggestions
    hide = _hide_gains(plan)
    # Several households may go to the same sector: one row per sector, in first-pick order.
    grouped = (
        sugg.groupby(["sector", "district_name"], sort=False)
        .agg(
            rank=("rank", "min"),
            households=("rank", "size"),
            gain=("marginal_gain", "sum"),
            total=("cumulative_gain", "max"),
        )
        .reset_index()
        .sort_values("rank")
    )
    rows = [
        html.Tr(
            [
                html.Td(int(r.rank)),
                html.Td(r.sector),
                html.Td(r.district_name),
                html.Td(int(r.households), className="num"),
                html.Td("c" if hide else f"+{int(r.gain)}", className="num"),
                html.Td("c" if hide else int(r.total), className="num"),
            ]
        )
        for r in grouped.itertuples(index=False)
    ]
    return panel(
        f"Suggested areas for {plan.households} new household(s) of {plan.kind.places} "
        f"place(s), approved for {describe_categories(plan.kind.categories)}",
        f"Coverage gap {_gap_words(plan)} more "
        "children could be placed within 20 miles of home." + _baseline_note(plan, cmp),
        data_table(
            ["#", "Sector", "District", "Households", "Children gained", "Running total"],
            rows,
            numeric_from=3,
            empty="No site would bring another child within reach for this kind of household.",
        ),
        className="mb-3",
        id="rc-suggestions-panel",
    )


def _shown_gaps(
    before: pd.DataFrame, after: pd.DataFrame, *, exact: bool
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, dict[str, str]]]:
    """Gap before and after by district as shown: unless ``exact`` (analysts), 1-5 is c with
    secondary suppression against the total (the last row)."""
    b = before.set_index("district_code")
    a = after.set_index("district_code").reindex(b.index)
    total = (b.index == b.index[-1]) if len(b) else np.zeros(0, dtype=bool)
    shown = {}
    for name, frame in (("before", b), ("after", a)):
        gap = frame["gap"].to_numpy(float)
        hidden = np.zeros(len(gap), dtype=bool) if exact else suppressed_gap(gap, total)
        shown[name] = dict(zip(frame.index, gap_text(gap, hidden), strict=True))
    return b, a, shown


def _total_gap_words(base: Any, res: Any) -> str:
    """The authority's coverage gap before and after the edits, as the what-if table shows it."""
    b, _a, shown = _shown_gaps(base.district, res.district, exact=exact_counts_allowed())
    if not len(b):
        return ""
    code = b.index[-1]
    return f"Coverage gap {shown['before'][code]} now, {shown['after'][code]} after your edits."


def _edit_list(edits: tuple[Edit, ...]) -> Any:
    """The edits in words (what a keyboard or screen-reader user did, and what the map's
    diamonds show)."""
    if not edits:
        return html.P("No what-if edits yet.", className="muted mb-0")
    items = [
        html.Li(
            f"{'Added' if e.action == 'add' else 'Removed'} a household of {e.places} place(s) "
            f"in 5 km square {grid_reference(e.cell)}"
        )
        for e in edits
    ]
    return html.Div([html.H3("Your edits", className="subsection-title"), html.Ol(items)])


def _district_change(
    before: pd.DataFrame,
    after: pd.DataFrame,
    n_edits: int,
    *,
    exact: bool = False,
    edits: tuple[Edit, ...] = (),
) -> html.Div:
    """Gap before and after the edits by district. The gap counts children: unless ``exact``
    (analysts), 1-5 is shown as c with secondary suppression against the total. A changed row
    says so in words (a "Changed" column), not only by its shading."""
    b, a, shown = _shown_gaps(before, after, exact=exact)
    rows = []
    for code in a.index:
        if code == "OUTSIDE":
            continue
        gb, ga = int(b.loc[code, "gap"]), int(a.loc[code, "gap"])
        pb, pa = b.loc[code, "places_per_child_2sfca"], a.loc[code, "places_per_child_2sfca"]
        changed = (gb != ga) or abs(pb - pa) > 1e-9
        rows.append(
            html.Tr(
                [
                    html.Td(a.loc[code, "district_name"]),
                    html.Td("Changed" if changed else "", className="changed-mark"),
                    html.Td(shown["before"][code], className="num"),
                    html.Td(shown["after"][code], className="num"),
                    html.Td(f"{pa:.2f}", className="num"),
                ],
                className="changed-row" if changed else None,
                id=f"rc-row-{code}",
            )
        )
    return panel(
        f"What-if: district figures ({n_edits} edit(s))",
        "Coverage gap before and after your edits, and places per child (2SFCA) after; "
        "rows your edits changed say Changed.",
        html.Div(
            [
                data_table(
                    ["District", "Changed", "Gap now", "Gap after", "Places/child"],
                    rows,
                    numeric_from=2,
                    id="rc-district-table",
                ),
                _edit_list(edits),
            ]
        ),
    )
