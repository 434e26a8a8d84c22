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
    attrs,
    choice_group,
    data_table,
    error_alert,
    graph_figure,
    grid_reference,
    live_region,
    panel,
)
from app.coverage_areas import area_layer, colour_axis, count_text, sector_text, square_table
from app.coverage_view import (
    Edit,
    cell_centre_lonlat,
    gap_needs,
    net_edits,
    recruitment_baselines,
    recruitment_kinds,
    recruitment_plan,
    result_with_edits,
    sector_lonlat,
    to_lonlat,
)
from app.data.state import store
from app.ids import Id
from app.map_assets import cells_geojson, districts_url
from app.map_labels import district_labels, map_bounds
from app.plan_year import PLAN_OPTIONS, plan_year, planning_words, year_model
from app.protection import cells_for, protecting
from app.recruitment_map import (
    clicked_square,
    dodge,
    household_markers,
    square_of,
    suggestion_stars,
)
from app.recruitment_view import (
    check_inputs,
    gap_after_text,
    gap_before_text,
    gap_panel,
    hide_gains,
    input_messages,
    kinds_panel,
    need_rows_shown,
    problems_panel,
    shortfall_words,
    what_if_kind,
)
from app.recruitment_view import (
    district_change as _district_change,
)
from app.recruitment_view import (
    total_gap_words as _total_gap_words,
)
from app.views import exact_counts_allowed
from geo.ssda903 import describe_categories, format_categories, parse_categories

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
            html.Div(id=Id.RC_GAP),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            dbc.Label("New households", html_for=Id.RC_N, className="filter-label"),
                            # no min/max: out-of-range values reach check_inputs, which says what is wrong
                            dbc.Input(id=Id.RC_N, type="number", step=1, value=10),
                        ],
                        xs=6,
                        md=2,
                    ),
                    dbc.Col(
                        [
                            dbc.Label(
                                "Places each", html_for=Id.RC_PLACES, className="filter-label"
                            ),
                            dbc.Input(id=Id.RC_PLACES, type="number", step=1, value=2),
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
                        md=4,
                    ),
                    dbc.Col(
                        [
                            dbc.Label("Plan for", html_for=Id.RC_YEAR, className="filter-label"),
                            dbc.Select(id=Id.RC_YEAR, options=PLAN_OPTIONS, value="0"),
                        ],
                        xs=6,
                        md=2,
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
            html.Div(id=Id.RC_CHECK, **attrs({"aria-live": "polite"})),
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
                                    className="map-graph",
                                    config=figures.graph_config(scrollZoom=True),
                                )
                            ),
                            name="Map of children at risk by 5 km square, with the suggested "
                            "sectors and your hypothetical households",
                            table_id=Id.RC_MAP_TABLE,
                        ),
                        lg=7,
                    ),
                    dbc.Col(
                        [
                            html.Div(id=Id.RC_SUGGESTIONS),
                            html.Div(id=Id.RC_KINDS),
                            dbc.Button(
                                "Use the suggested kind",
                                id=Id.RC_USE_KIND,
                                color="secondary",
                                outline=True,
                                className="mb-3",
                            ),
                            html.Div(id=Id.RC_DISTRICTS),
                        ],
                        lg=5,
                    ),
                ]
            ),
        ]
    )


def _categories(values: list[str] | None) -> str:
    """The ticked approvals in the canonical order (one cache key per kind)."""
    return format_categories(parse_categories(";".join(values or []))[0])


@callback(
    Output(Id.RC_CHECK, "children"),
    Input(Id.RC_N, "value"),
    Input(Id.RC_PLACES, "value"),
    Input(Id.RC_CATEGORIES, "value"),
)
def check_form(households: Any, places: Any, categories: list[str] | None) -> Any:
    """What is wrong with the form, as soon as it is wrong (None when nothing is)."""
    return input_messages(households, places, categories)


@callback(
    Output(Id.RC_CATEGORIES, "value"),
    Input(Id.RC_USE_KIND, "n_clicks"),
    State(Id.DATASET, "data"),
    State(Id.RC_SEARCHED, "data"),
    State(Id.RC_N, "value"),
    State(Id.RC_PLACES, "value"),
    prevent_initial_call=True,
)
def use_suggested_kind(
    _n: int | None, dataset_id: str | None, searched: dict | None, households: Any, places: Any
) -> Any:
    """Tick the approvals of the suggested kind, for the form's households and places (the
    last search's where the form's are not valid)."""
    form = check_inputs(households, places, ["0-4"])
    last = searched or {}
    n = form.households or last.get("households") or 10
    each = form.places or last.get("places") or 1
    try:
        advice = recruitment_kinds(store(), dataset_id, households=int(n), places=int(each))
    except Exception:  # noqa: BLE001  the page's own callback shows the message
        return no_update
    offered = {o["value"] for o in CATEGORY_OPTIONS}
    return [c for c in format_categories(advice.best.kind.categories).split(";") if c in offered]


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
    """The edit list after a click on the map: on a square, or on a suggested star or a
    household diamond (which carry their square's id); ``no_update`` when no square was hit."""
    return apply_choice(clicked_square(click, _is_cell), edits, mode, places, categories)


def apply_choice(
    cell: str | None,
    edits: list[dict] | None,
    action: str,
    places: int | None,
    categories: list[str] | None,
) -> Any:
    """The edit list after adding (or removing) a household in ``cell``, a grid cell id
    chosen from the list or clicked on the map (``no_update`` when it is not one). The
    household has the form's places and approvals where they are valid; otherwise what
    :func:`app.recruitment_view.what_if_kind` assumes, which the page says beside the form."""
    if not _is_cell(cell):
        return no_update
    each, cats, _notes = what_if_kind(places, categories)
    edits = list(edits or [])[-MAX_EDITS + 1 :]
    edits.append(
        {
            "action": "remove" if action == "remove" else "add",
            "cell": cell,
            "places": each,
            "categories": cats,
        }
    )
    return edits


def _is_cell(loc: Any) -> bool:
    return isinstance(loc, str) and "_" in loc and loc.replace("_", "").isdigit()


@callback(
    Output(Id.RC_MAP, "figure"),
    Output(Id.RC_SUGGESTIONS, "children"),
    Output(Id.RC_DISTRICTS, "children"),
    Output(Id.RC_ALERT, "children"),
    Output(Id.RC_MAP_TABLE, "children"),
    Output(Id.RC_AREA, "options"),
    Output(Id.RC_AREA, "value"),
    Output(Id.RC_STATUS, "children"),
    Output(Id.RC_GAP, "children"),
    Output(Id.RC_KINDS, "children"),
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
    _run: dict | None,
    edits: list[dict] | None,
    households: Any,
    places: Any,
    categories: list[str] | None,
    area: str | None = None,
) -> tuple[Any, ...]:
    """Map, suggestions, what-if table, the squares as a table and as the what-if list, the
    sentence read out (what changed), the gap now and the kinds compared. ``_run``: the
    parameters of the last search finished in the background (:func:`search_sites`; the
    layout's defaults before the first), used instead of the fields, which may have changed
    since (or belong to a cancelled search)."""
    year = 0
    if isinstance(_run, dict):
        households, places = _run.get("households"), _run.get("places")
        categories, year = _run.get("categories"), plan_year(_run.get("year"))
    checked = check_inputs(households, places, categories)
    try:
        # the cell-key method's secret; a forecast year's counts are their own cells
        with protecting(store().get(dataset_id).secret), cells_for(*([year] if year else [])):
            fig, suggestions, kinds, districts, gap, grid, status = _recruitment(
                dataset_id, edits or [], checked, year
            )
    except Exception as err:
        empty = figures._empty("No map")
        alert = error_alert(err)
        return empty, None, None, alert, None, [], None, "Cannot show this view.", None, None
    options = [
        {"label": _square_label(r), "value": str(r["area_id"])}
        for r in grid.sort_values(["value", "area_id"], ascending=[False, True]).to_dict(
            orient="records"
        )
    ]
    values = {o["value"] for o in options}
    chosen = area if area in values else (options[0]["value"] if options else None)
    table = square_table(
        grid, "children_at_risk", table_id="rc-squares", exact=exact_counts_allowed()
    )
    return fig, suggestions, districts, None, table, options, chosen, status, gap, kinds


@callback(
    Output(Id.RC_SEARCHED, "data"),
    Input(Id.RC_RUN, "n_clicks"),
    State(Id.DATASET, "data"),
    State(Id.RC_N, "value"),
    State(Id.RC_PLACES, "value"),
    State(Id.RC_CATEGORIES, "value"),
    State(Id.RC_YEAR, "value"),
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
    households: Any,
    places: Any,
    categories: list[str] | None,
    year: Any = None,
) -> dict[str, Any]:
    """'Suggest areas' in a background process: the search, the kinds compared and the
    baselines, with progress, on the demand of the "Plan for" year (now or a forecast year end);
    returns the parameters (with the problems, when the form asks for something that cannot be
    searched: then nothing is), and :func:`update_recruitment` draws the handed-over result."""
    checked = check_inputs(households, places, categories)
    searched = {**checked.as_store(), "year": plan_year(year)}
    if not checked.ok:
        return searched
    n, each = int(checked.households or 0), int(checked.places or 0)
    show = reporter(set_progress)
    s = store()
    try:
        on = year_model(s, dataset_id, searched["year"]) if searched["year"] else None
        plan = recruitment_plan(
            s,
            dataset_id,
            households=n,
            places=each,
            categories=checked.categories,
            progress=show,
            on=on,
        )
        if on is None:  # the kinds compared are today's (not shown for a forecast year)
            recruitment_kinds(s, dataset_id, households=n, places=each, progress=show)
        recruitment_baselines(s, dataset_id, plan, progress=show, on=on)
    except Exception:  # noqa: BLE001  update_recruitment shows the message
        pass
    return searched


def _searched(households: Any, places: Any, categories: Any) -> dict[str, Any]:
    """The parameters of a search, as kept in the browser (no counts)."""
    return check_inputs(households, places, categories).as_store()


def _district_words(name: Any) -> str:
    return "outside the districts" if pd.isna(name) or not name else str(name)


def _square_label(r: dict) -> str:
    at_risk = count_text(r["children_at_risk"], exact=exact_counts_allowed())
    return (
        f"{grid_reference(str(r['area_id']))}, {_district_words(r['district_name'])}"
        f" (children at risk: {at_risk})"
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
    dataset_id: str | None, edits: list[dict], checked: Any, year: int = 0
) -> tuple[Any, Any, Any, Any, Any, pd.DataFrame, str]:
    """The page's figures on the demand of ``year`` (0: now; else the forecast year end)."""
    s = store()
    exact = exact_counts_allowed()
    on = year_model(s, dataset_id, year) if year else None
    base = result_with_edits(s, dataset_id, on=on)
    needs = gap_needs(s, dataset_id, on)
    what_if = parse_edits(edits)
    res = result_with_edits(s, dataset_id, what_if, on=on) if what_if else base
    plan = advice = None
    if checked.households is not None and checked.places is not None:
        n, each = int(checked.households), int(checked.places)
        # the kinds compared need only the number and the places: shown even when no
        # approval is ticked (the form then asks for one and points here); today's only
        if on is None:
            advice = recruitment_kinds(s, dataset_id, households=n, places=each)
        if checked.ok:
            plan = recruitment_plan(
                s, dataset_id, households=n, places=each, categories=checked.categories, on=on
            )
    grid, hover = area_layer(res, "children_at_risk", exact=exact)
    size_m = 5000.0
    sugg = _by_sector(plan) if plan is not None else None
    fig = figures.area_map(
        cells_geojson(grid["area_id"].tolist(), size_m),
        grid,
        value_col="value",
        value_label="Children at risk",
        colorscale="Oranges",
        outlines_geojson=s.browser_geojson,
        outlines_url=districts_url(s),
        line_codes=s.authority.district_codes,
        outline_codes=[f["id"] for f in s.browser_geojson["features"]],
        title=f"Children at risk by 5 km square ({'now' if on is None else on.year_end}, "
        "with your edits) · ★ suggested sectors, numbered as in the list",
        hover=hover,
        basemap=s.settings.basemap,
        note=getattr(s.boundaries, "label", ""),
        label_points=district_labels(s.boundaries, s.authority.district_codes),
        bounds=map_bounds(s.boundaries, s.authority.district_codes),
    )
    banded = colour_axis("children_at_risk", exact=exact)
    if banded:
        fig.update_traces(selector=dict(name="Children at risk"), **banded)
    added = sorted({e.cell for e in net_edits(what_if)})  # a removed household is gone
    if added:
        lon, lat = cell_centre_lonlat(added, size_m)
        fig.add_trace(household_markers(lon, lat, added, basemap=s.settings.basemap))
    if sugg is not None and len(sugg):
        fig.add_trace(suggestion_stars(_stars(sugg, plan, s, size_m), basemap=s.settings.basemap))
    planned = result_with_edits(s, dataset_id, (), plan, on) if plan is not None else None
    after = result_with_edits(s, dataset_id, what_if, plan, on) if plan is not None else res
    changes = _district_change(
        base.district,
        after.district,
        len(what_if),
        exact=exact,
        edits=what_if,
        planned=None if planned is None else planned.district,
    )
    kinds = None if advice is None else kinds_panel(advice, plan, needs)
    if plan is None:
        suggestions: Any = problems_panel(list(checked.problems))
        status = "Suggestions not updated: " + " ".join(checked.problems)
    else:
        cmp = recruitment_baselines(s, dataset_id, plan, on=on)
        suggestions = _suggestions(plan, cmp, needs, sugg)
        status = f"Suggestions updated: coverage gap {_gap_words(plan)} more children within reach."
    if _triggered() == Id.RC_EDITS:
        status = (
            f"What-if updated: {len(what_if)} edit(s). {_total_gap_words(base, res)}"
            if what_if
            else "What-if reset: no edits."
        )
    gap: Any = gap_panel(needs, base.district)
    if on is not None:  # which demand, in words, before every figure of it
        words = planning_words(on)
        total = need_rows_shown(needs, exact=exact).iloc[-1]["gap_shown"]
        gap = html.Div([html.P(f"{words} Gap {total} children.", id="rc-plan-year-words"), gap])
        status = f"{words} {status}"
    return fig, suggestions, kinds, changes, gap, grid, status


def _by_sector(plan: Any) -> pd.DataFrame:
    """One row per suggested sector, in the order of the list: most children gained first
    (the search's order: exact marginal gains, equal gains nearest the children at risk
    first), numbered 1, 2, … as the stars on the map are."""
    sugg = plan.suggestions
    if not len(sugg):
        return pd.DataFrame(
            columns=["number", "sector", "district_name", "households", "gain", "total"]
        )
    grouped = (
        sugg.groupby(["sector", "district_name"], sort=False)
        .agg(
            rank=("rank", "min"),
            households=("rank", "size"),
            gain=("marginal_gain", "sum"),
            total=("cumulative_gain", "max"),
        )
        .reset_index()
    )
    grouped = grouped.sort_values(["gain", "rank"], ascending=[False, True], kind="stable")
    return grouped.assign(number=np.arange(1, len(grouped) + 1)).reset_index(drop=True)


def _stars(sugg: pd.DataFrame, plan: Any, s: Any, size_m: float) -> pd.DataFrame:
    sites = sector_lonlat(sugg["sector"].tolist(), s)
    hide = hide_gains(plan)
    hover = [
        f"#{n} {sector}: {h} household(s), "
        + ("children gained hidden (small numbers)" if hide else f"+{g} children")
        + " within 20 miles"
        for n, sector, h, g in zip(
            sugg["number"], sugg["sector"], sugg["households"], sugg["gain"], strict=True
        )
    ]
    e, n = sites["easting_m"].to_numpy(float), sites["northing_m"].to_numpy(float)
    squares = square_of(e, n, size_m=size_m)  # a click adds in the sector's own square
    # stars of neighbouring sectors spread apart so every number can be read
    drawn_e, drawn_n = dodge(e, n)
    lon, lat = to_lonlat(drawn_e, drawn_n)
    return sites.assign(
        number=sugg["number"].to_numpy(), hover=hover, square=squares, lon=lon, lat=lat
    )


def _triggered() -> Any:
    """The input that fired the running callback; None when called directly (tests)."""
    try:
        return ctx.triggered_id
    except MissingCallbackContextException:  # called directly, not by Dash
        return None


def _baseline_note(plan: Any, cmp: Any) -> str:
    """How the plan compares with naive siting, in a sentence."""
    if not plan.total_gain or hide_gains(plan):
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
    before = gap_before_text(plan, exact=exact)
    after = gap_after_text(plan, exact=exact)
    if hide_gains(plan):  # commissioners: the protected gaps only, no exact difference
        return f"{before} → {after} children"
    return f"{before} → {after} children: {plan.total_gain}"


def _ties_note(plan: Any, sugg: pd.DataFrame) -> str:
    """Why several sites gain the same, when they do."""
    per_household = plan.suggestions["marginal_gain"]
    if len(per_household) < 2 or per_household.nunique() > 1 or hide_gains(plan):
        return ""
    return (
        f" Every household here gains {int(per_household.iloc[0])}: the children at risk "
        "compete for the same places, so a suitable place anywhere within 20 miles of them "
        "helps one more of them; equal gains are listed nearest the children at risk first."
    )


def _suggestions(
    plan: Any, cmp: Any, needs: pd.DataFrame | None = None, sugg: pd.DataFrame | None = None
) -> html.Div:
    hide = hide_gains(plan)
    sugg = _by_sector(plan) if sugg is None else sugg
    rows = [
        html.Tr(
            [
                html.Td(int(r["number"])),
                html.Td(sector_text(r["sector"])),
                html.Td(str(r["district_name"])),
                html.Td(int(r["households"]), className="num"),
                html.Td("c" if hide else f"+{int(r['gain'])}", className="num"),
            ]
        )
        for r in sugg.to_dict(orient="records")
    ]
    why = shortfall_words(plan, needs) if needs is not None else ""
    return panel(
        f"Suggested areas for {plan.households} new household(s) of {plan.kind.places} "
        f"place(s), approved for {describe_categories(plan.kind.categories)}",
        (
            f"Coverage gap {_gap_words(plan)} more "
            "children could be placed within 20 miles of home."
            if not hide_gains(plan)
            else f"Coverage gap now and after the plan: {_gap_words(plan)} without a suitable "
            "place within 20 miles of home (protected figures: the gain is not shown)."
        )
        + why
        + _ties_note(plan, sugg)
        + _baseline_note(plan, cmp),
        data_table(
            ["#", "Sector", "District", "Households", "Children gained"],
            rows,
            numeric_from=3,
            empty="No site would bring another child within reach for this kind of household.",
            id="rc-suggestions-table",
        ),
        className="mb-3",
        id="rc-suggestions-panel",
    )
