"""Recruitment planning in words and tables: the inputs checked (a message for each problem,
never a silent substitute), the gap now by need and by district (shown before anything is
asked), which kind of household closes the most of it, and why a plan leaves part of the gap.

Every count of children goes through the shared disclosure helpers: exact for a user who may
see small numbers (:func:`app.views.exact_counts_allowed`), otherwise by
the cell-key method (:mod:`app.protection`; ``c`` = 0 to 6, others within 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from dash import html

from app.components import data_table, fmt_children, grid_reference, panel
from app.coverage_view import Edit
from app.views import exact_counts_allowed, gap_text
from geo.ssda903 import (
    AGE_BAND_LABELS,
    ALL_AGES_MASK,
    CATEGORY_BIT,
    Category,
    describe_categories,
    format_categories,
    parse_categories,
)

MAX_HOUSEHOLDS = 50
MAX_PLACES = 6
GROUP_WORDS = {
    **{a: f"Aged {a}" for a in AGE_BAND_LABELS},
    "age not known": "Age not known",
    "disability": "Disabled children",
    "siblings": "Sibling groups",
    "parent_and_child": "Parent and child",
    "all": "All children",
}


@dataclass(frozen=True)
class PlanInputs:
    """The recruitment form as checked: the values a search may use, and ``problems`` (one
    sentence each) that must be fixed first; the search runs only when there are none."""

    households: int | None
    places: int | None
    categories: str  # canonical ";"-joined approvals ('' when none)
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_store(self) -> dict[str, Any]:
        """As kept in the browser (parameters and messages, no counts)."""
        return {
            "households": self.households,
            "places": self.places,
            "categories": self.categories.split(";") if self.categories else [],
            "problems": list(self.problems),
        }


def _whole(value: Any) -> int | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return int(v) if np.isfinite(v) and v == int(v) else None


def check_inputs(households: Any, places: Any, categories: Any) -> PlanInputs:
    """Check the form: ``households`` 1-50, ``places`` 1-6 (whole numbers), at least one
    approval and at least one age band among them. Nothing is assumed: each problem becomes a
    sentence saying what was entered and what is needed."""
    problems = []
    n = _whole(households)
    if households in (None, ""):
        problems.append(
            f"Enter how many new households to plan for (a whole number from 1 to "
            f"{MAX_HOUSEHOLDS})."
        )
    elif n is None or not 1 <= n <= MAX_HOUSEHOLDS:
        problems.append(
            f"New households: {households} is not a number of households to plan for; "
            f"enter a whole number from 1 to {MAX_HOUSEHOLDS}."
        )
        n = None
    p = _whole(places)
    if places in (None, ""):
        problems.append(
            f"Enter how many children each household could take (places each, 1 to {MAX_PLACES})."
        )
    elif p is None or not 1 <= p <= MAX_PLACES:
        problems.append(
            f"Places each: {places} is not a number of places a fostering household can be "
            f"approved for; enter a whole number from 1 to {MAX_PLACES}."
        )
        p = None
    mask, _unknown = parse_categories(";".join(categories or []))
    if not mask:
        problems.append(
            "Approved for: nothing is ticked. Tick what the new households would be approved "
            "for (at least one age band), or use the suggested kind below."
        )
    elif not mask & ALL_AGES_MASK:
        problems.append(
            f"Approved for: {describe_categories(mask)} but no age band. A household must be "
            "approved for the ages of the children it takes: tick at least one age band."
        )
    return PlanInputs(n, p, format_categories(mask), tuple(problems))


def what_if_kind(places: Any, categories: Any) -> tuple[int, str, list[str]]:
    """The kind of a hypothetical household added by clicking: the form's places and
    approvals where they are valid, otherwise 1 place / any age — with a sentence saying so
    (shown beside the form, and the edit list names the kind of every household)."""
    checked = check_inputs(1, places, categories)
    notes = []
    each = checked.places
    if each is None:
        each = 1
        notes.append("What-if households get 1 place until Places each is 1 to 6.")
    cats = checked.categories
    if not parse_categories(cats)[0] & ALL_AGES_MASK:
        cats = format_categories(ALL_AGES_MASK | parse_categories(cats)[0])
        notes.append("What-if households are approved for any age until an age band is ticked.")
    return each, cats, notes


def input_messages(households: Any, places: Any, categories: Any) -> Any:
    """The problems with the form (and what a what-if click would assume) as an alert beside
    it; None when there are none."""
    checked = check_inputs(households, places, categories)
    _each, _cats, notes = what_if_kind(places, categories)
    lines = list(checked.problems) + notes
    if not lines:
        return None
    return html.Div(
        [html.Strong("Check the plan: "), html.Ul([html.Li(x) for x in lines], className="mb-0")],
        className="alert alert-warning mb-2",
        role="alert",
        id="rc-input-problems",
    )


def problems_panel(problems: list[str]) -> html.Div:
    """What the suggestions panel says when the search was not run."""
    return panel(
        "No suggestions yet",
        "The search was not run, because:",
        html.Ul([html.Li(x) for x in problems]),
        className="mb-3",
        id="rc-suggestions-panel",
    )


def hide_gains(plan: Any) -> bool:
    """Whether a plan's gains must be hidden: always for a user who may not see exact numbers.
    A gain is the difference of two gaps; shown exactly beside protected gaps, the gains of
    several runs would pin the gaps down (issue 23), so only the protected gaps before and
    after are shown."""
    return not exact_counts_allowed()


def plan_cell(plan: Any) -> tuple[Any, ...]:
    """The definition of a plan's gap after (its own cell: households, places, approvals)."""
    return ("plan-gap", plan.households, plan.kind.places, plan.kind.categories)


def gap_before_text(plan: Any, *, exact: bool) -> str:
    """The authority's gap now, as the comparison page shows it (the same cell)."""
    from app.data.state import store

    return fmt_children(
        plan.gap_before, exact=exact, cell=("coverage-gap", store().authority.code, "gap")
    )


def gap_after_text(plan: Any, *, exact: bool) -> str:
    return fmt_children(plan.gap_after, exact=exact, cell=plan_cell(plan))


def _shown(
    values: np.ndarray, is_total: np.ndarray, *, exact: bool, cells: list[tuple[Any, ...]]
) -> list[str]:
    if exact:
        return gap_text(values, np.zeros(len(values), dtype=bool))
    return [fmt_children(v, exact=False, cell=c) for v, c in zip(values, cells, strict=True)]


def need_rows_shown(needs: pd.DataFrame, *, exact: bool) -> pd.DataFrame:
    """:func:`geo.coverage.gap_by_need` as shown: the age rows (a partition) suppressed with
    the total, each need row on its own (needs overlap; their complements are not shown)."""
    t = needs.reset_index(drop=True)
    out = {"children_at_risk": [""] * len(t), "gap": [""] * len(t)}
    ages = t.index[t["kind"].isin(["age", "total"])].to_numpy()
    total = (t.loc[ages, "kind"] == "total").to_numpy()
    for col in out:
        cells = [("gap-need", str(t.loc[i, "group"]), col) for i in ages]
        texts = _shown(t.loc[ages, col].to_numpy(float), total, exact=exact, cells=cells)
        for i, text in zip(ages, texts, strict=True):
            out[col][i] = text
        for i in t.index[t["kind"] == "need"]:
            (text,) = _shown(
                np.array([float(t.loc[i, col])]),
                np.array([False]),
                exact=exact,
                cells=[("gap-need", str(t.loc[i, "group"]), col)],
            )
            out[col][i] = text
    return t.assign(at_risk_shown=out["children_at_risk"], gap_shown=out["gap"])


def gap_panel(needs: pd.DataFrame, district: pd.DataFrame) -> html.Div:
    """The gap now, by need and by district: who the missing places are for, before any
    question is asked."""
    exact = exact_counts_allowed()
    shown = need_rows_shown(needs, exact=exact)
    shown = shown[(shown["kind"] != "age") | (shown["children"] > 0)]
    total = shown[shown["kind"] == "total"].iloc[0]
    need_rows = [
        html.Tr(
            [
                html.Td(GROUP_WORDS.get(str(r["group"]), str(r["group"]))),
                html.Td(str(r["at_risk_shown"]), className="num"),
                html.Td(str(r["gap_shown"]), className="num"),
            ],
            className="total-row" if r["kind"] == "total" else None,
        )
        for r in shown.to_dict(orient="records")
    ]
    d = district[district["district_code"] != "OUTSIDE"].reset_index(drop=True)
    is_total = (d.index == len(d) - 1) if len(d) else np.zeros(0, dtype=bool)
    codes = d["district_code"].tolist()
    risk = _shown(
        d["children_at_risk"].to_numpy(float),
        is_total,
        exact=exact,
        cells=[("at-risk", c) for c in codes],
    )
    gap = _shown(
        d["gap"].to_numpy(float),
        is_total,
        exact=exact,
        cells=[("coverage-gap", c, "gap") for c in codes],  # the comparison page's cells
    )
    area_rows = [
        html.Tr(
            [html.Td(name), html.Td(r, className="num"), html.Td(g, className="num")],
            className="total-row" if t else None,
        )
        for name, n, r, g, t in zip(
            d["district_name"], d["children_at_risk"], risk, gap, is_total, strict=True
        )
        if t or n > 0
    ]
    headings = ["Children at risk", "Gap"]
    return panel(
        "The gap now: who is short of a place, and where",
        f"{total.gap_shown} children cannot all be given a suitable foster place within 20 "
        f"miles of home however today's places are shared out (the gap); "
        f"{total.at_risk_shown} children compete for the places that could take them, and any "
        "of them could be one left without (children at risk). New households close the gap "
        "only if they are approved for these children's needs.",
        html.Div(
            [
                html.Div(
                    data_table(
                        ["By need", *headings],
                        need_rows,
                        id="rc-gap-needs",
                        caption="By need (needs overlap: a child can be in several rows)",
                    ),
                    className="col-md-6",
                ),
                html.Div(
                    data_table(
                        ["By district", *headings],
                        area_rows,
                        id="rc-gap-areas",
                        caption="By district (only districts with children at risk)",
                        empty="No district has children at risk.",
                    ),
                    className="col-md-6",
                ),
            ],
            className="row g-2",
        ),
        className="mb-3",
        id="rc-gap-panel",
    )


def out_of_reach(needs: pd.DataFrame, categories: int) -> list[tuple[str, str]]:
    """The parts of the gap a household approved for ``categories`` cannot take: (group in
    words, its gap as shown), for every need or age band with a gap it is not approved for."""
    shown = need_rows_shown(needs, exact=exact_counts_allowed())
    out = []
    for r in shown.to_dict(orient="records"):
        group = str(r["group"])
        if r["kind"] == "total" or int(r["gap"]) <= 0 or group == "age not known":
            continue
        if not categories & CATEGORY_BIT[Category(group)]:
            out.append((GROUP_WORDS[group].lower(), str(r["gap_shown"])))
    return out


def shortfall_words(plan: Any, needs: pd.DataFrame) -> str:
    """Why a plan leaves part of the gap, in a sentence ('' when it closes it all)."""
    if plan.gap_after <= 0:
        return ""
    missing = out_of_reach(needs, plan.kind.categories)
    total = need_rows_shown(needs, exact=exact_counts_allowed()).iloc[-1]["gap_shown"]
    kind = describe_categories(plan.kind.categories)
    if missing:
        parts = "; ".join(f"{group} (gap {gap} of {total})" for group, gap in missing)
        return (
            f" Households approved for {kind} cannot take {parts}: tick those approvals, or "
            "use the suggested kind."
        )
    return (
        f" {gap_after_text(plan, exact=exact_counts_allowed())} children stay without "
        "a suitable place within 20 miles: more households, or more places each, would be "
        "needed."
    )


def kinds_panel(advice: Any, chosen: Any, needs: pd.DataFrame) -> html.Div:
    """The kinds of household compared for the same number of households and places, the
    suggested one first in words."""
    best = advice.best
    exact = exact_counts_allowed()
    plans = list(advice.compared)
    if chosen is not None and all(p.kind != chosen.kind for p in plans):
        plans.append(chosen)
    rows = []
    for p in sorted(plans, key=lambda p: -p.total_gain):
        hide = hide_gains(p)
        label = describe_categories(p.kind.categories)
        marks = [m for m, on in (("suggested", p is best), ("your choice", _same(p, chosen))) if on]
        rows.append(
            html.Tr(
                [
                    html.Td(label[:1].upper() + label[1:]),
                    html.Td(", ".join(marks)),
                    html.Td("c" if hide else f"{p.total_gain:,}", className="num"),
                    html.Td(gap_after_text(p, exact=exact), className="num"),
                ],
                className="changed-row" if p is best else None,
            )
        )
    ages = need_rows_shown(needs, exact=exact)
    ages = ages[(ages["kind"] == "age") & (ages["gap"] > 0)]
    age_words = ", ".join(
        f"{GROUP_WORDS[g].lower()} {t}"
        for g, t in zip(ages["group"], ages["gap_shown"], strict=True)
    )
    best_label = describe_categories(best.kind.categories)
    if best.total_gain > 0:
        lead = (
            f"Suggested kind: households approved for {best_label} close the most gap "
            f"({best.households} of them, {best.kind.places} place(s) each, at the best "
            "sites for each kind)."
        )
    else:
        lead = (
            f"No kind of household of {best.kind.places} place(s) closes any of the gap: the "
            "children at risk are already within reach of every suitable place there could be."
        )
    if age_words:
        lead += f" The gap by age: {age_words}."
    return panel(
        "What kind of household closes the most gap",
        lead,
        data_table(
            ["Approved for", "", "Gap closed", "Gap left"],
            rows,
            numeric_from=2,
            id="rc-kinds-table",
        ),
        className="mb-3",
        id="rc-kinds-panel",
    )


def _same(plan: Any, chosen: Any) -> bool:
    return chosen is not None and plan.kind == chosen.kind


def _shown_gaps(
    frames: dict[str, pd.DataFrame], *, exact: bool
) -> tuple[dict[str, pd.DataFrame], dict[str, dict[str, str]]]:
    """Gaps by district as shown, one column per frame: unless ``exact`` (analysts), by the
    cell-key method (:mod:`app.protection`)."""
    first = next(iter(frames.values())).set_index("district_code")
    out = {k: f.set_index("district_code").reindex(first.index) for k, f in frames.items()}
    total = (first.index == first.index[-1]) if len(first) else np.zeros(0, dtype=bool)
    shown = {}
    for name, frame in out.items():
        gap = frame["gap"].to_numpy(float)
        # "before" is the comparison page's cell; a what-if result is keyed by the whole
        # result it belongs to (the same result, the same values; another, other noise)
        key = "|".join(str(int(g)) if np.isfinite(g) else "-" for g in gap)
        cells = [
            ("coverage-gap", code, "gap") if name == "before" else ("what-if", key, code)
            for code in frame.index
        ]
        texts = _shown(gap, total, exact=exact, cells=cells)
        shown[name] = dict(zip(frame.index, texts, strict=True))
    return out, shown


def total_gap_words(base: Any, res: Any) -> str:
    """The authority's coverage gap before and after the edits, as the what-if table shows it."""
    frames, shown = _shown_gaps(
        {"before": base.district, "after": res.district}, exact=exact_counts_allowed()
    )
    b = frames["before"]
    if not len(b):
        return ""
    code = b.index[-1]
    return f"Coverage gap {shown['before'][code]} now, {shown['after'][code]} after your edits."


def _edit_list(edits: tuple[Edit, ...]) -> Any:
    """The edits in words (what a keyboard or screen-reader user did, and what the map's
    diamonds show), each with the kind of household."""
    if not edits:
        return html.P("No what-if edits yet.", className="muted mb-0")
    items = [
        html.Li(
            f"Added a household of {e.places} place(s), approved for "
            f"{describe_categories(parse_categories(e.categories)[0])}, "
            f"in 5 km square {grid_reference(e.cell)}"
            if e.action == "add"
            else f"Removed one added in 5 km square {grid_reference(e.cell)}"
        )
        for e in edits
    ]
    return html.Div([html.H3("Your edits", className="subsection-title"), html.Ol(items)])


def district_change(
    before: pd.DataFrame,
    after: pd.DataFrame,
    n_edits: int,
    *,
    exact: bool = False,
    edits: tuple[Edit, ...] = (),
    planned: pd.DataFrame | None = None,
) -> html.Div:
    """Gap by district now, after the suggested plan (``planned``) and after the plan and your
    edits (``after``). The gap counts children: unless ``exact`` (analysts), 1-5 is shown as c
    by the cell-key method. A row the edits changed says so in words
    (a "Changed" column), not only by its shading."""
    frames = {"before": before, "after": after}
    if planned is not None:
        frames["planned"] = planned
    out, shown = _shown_gaps(frames, exact=exact)
    b, a = out["before"], out["after"]
    ref = out.get("planned", b)
    rows = []
    for code in a.index:
        if code == "OUTSIDE":
            continue
        gr, ga = int(ref.loc[code, "gap"]), int(a.loc[code, "gap"])
        pr, pa = ref.loc[code, "places_per_child_2sfca"], a.loc[code, "places_per_child_2sfca"]
        changed = (gr != ga) or abs(pr - pa) > 1e-9
        cells = [
            html.Td(a.loc[code, "district_name"]),
            html.Td("Changed" if changed else "", className="changed-mark"),
            html.Td(shown["before"][code], className="num"),
        ]
        if planned is not None:
            cells.append(html.Td(shown["planned"][code], className="num"))
        cells += [
            html.Td(shown["after"][code], className="num"),
            html.Td(f"{pa:.2f}", className="num"),
        ]
        rows.append(
            html.Tr(cells, className="changed-row" if changed else None, id=f"rc-row-{code}")
        )
    headings = ["District", "Changed", "Gap now"]
    if planned is not None:
        headings += ["After the plan", "After the plan and your edits"]
        note = (
            "Coverage gap now, after the suggested households, and after them and your edits; "
            "places per child (2SFCA) after both. Rows your edits changed say Changed."
        )
    else:
        headings += ["After your edits"]
        note = (
            "Coverage gap before and after your edits, and places per child (2SFCA) after; "
            "rows your edits changed say Changed."
        )
    return panel(
        f"What-if: district figures ({n_edits} edit(s))",
        note,
        html.Div(
            [
                data_table(
                    headings + ["Places/child"], rows, numeric_from=2, id="rc-district-table"
                ),
                _edit_list(edits),
            ]
        ),
    )
