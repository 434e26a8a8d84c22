"""The report's tables, built from an analysis with the one disclosure policy per kind of table
(:mod:`geo.disclosure.policy`): districts, area groups, cohorts, the quarterly trend and the
coverage lists. Each is a :class:`ReportTable` of display values and a mask of hidden cells."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import numpy as np
import pandas as pd

from geo.disclosure import (
    SUPPRESSED,
    protect_columns,
    protect_district_table,
    protect_gap,
    protect_trend,
    suppress_table,
)
from geo.measures import Analysis, Trend, area_of, district_compliance
from geo.spatial import OUTSIDE, Authority, area_names, area_order
from geo.ssda903 import Cohort, PlacementKind

ColumnKind = Literal["text", "int", "pct", "miles", "ratio"]

KIND_COLUMNS = [k.value for k in PlacementKind]
KIND_LABELS = {
    PlacementKind.IN_HOUSE_FOSTER.value: "In-house foster",
    PlacementKind.IFA_FOSTER.value: "IFA foster",
    PlacementKind.OTHER_FOSTER.value: "Other foster",
    PlacementKind.RESIDENTIAL.value: "Residential",
    PlacementKind.OTHER.value: "Other placement",
}
# Coverage columns shown in the district table when a carers register is given, and labels.
SUPPLY_LABELS = {
    "carers": "Carer households",
    "vacant_places": "Vacant places",
    "suitable_places_20mi": "Suitable places within 20 mi",
    "gap": "Coverage gap (children)",
}
# In coverage tables, columns counting real children (suppressed like any count of children).
# Modelled gains of hypothetical carers ("marginal_gain") are not counts of children.
CHILD_COUNT_WORDS = ("children", "gap")
COVERAGE_LABELS = {
    "rank": "Rank",
    "sector": "Postcode sector",
    "district_name": "District",
    "children": "Children",
    "children_at_risk": "Children at risk",
    "gap": "Coverage gap (children)",
    "places_per_child_2sfca": "Places per child (2SFCA)",
    "marginal_gain": "Children brought within 20 mi",
    "cumulative_gain": "Cumulative",
    "children_at_risk_within_20mi": "Children at risk within 20 mi",
}


@dataclass(frozen=True)
class Column:
    """A report column: key in the table, heading, and how to format it."""

    key: str
    label: str
    kind: ColumnKind = "int"


@dataclass(frozen=True)
class ReportTable:
    """One table of the report, after disclosure control.

    ``data`` holds display values (numbers, ``"c"`` where hidden, NaN where not applicable) in
    the order of ``columns``; ``mask`` marks hidden cells; ``bold_rows`` are positions of total
    rows.
    """

    key: str
    title: str
    columns: tuple[Column, ...]
    data: pd.DataFrame
    mask: pd.DataFrame
    note: str = ""
    bold_rows: tuple[int, ...] = ()

    @property
    def hidden_cells(self) -> int:
        return int(self.mask.to_numpy().sum())


_STAT_COLUMN_SPECS = (
    Column("children", "Children"),
    Column("pct_within_20", "% within 20 miles", "pct"),
    Column("pct_within_10", "% within 10 miles", "pct"),
    Column("median_miles", "Median miles", "miles"),
    Column("not_known", "Distance not known"),
)
_STAT_COLUMNS = [c.key for c in _STAT_COLUMN_SPECS]


def _home_group(placements: pd.DataFrame, authority: Authority) -> pd.Series:
    return area_of(placements, authority, by="home")


def _included(analysis: Analysis) -> pd.DataFrame:
    p = analysis.placements
    return p[p["cohort"] == Cohort.INCLUDED.value]


def compliance_definition(
    as_at: date, *, view: str = "home", kind: str = "all", group: str = "all"
) -> tuple[Any, ...]:
    """The definition of a Compliance map view's cells (the app's filters): a report cell that
    counts the same thing uses the same definition, so an empty cell shows the same (0 or c)."""
    return ("compliance", view, as_at, "all", "all", kind, group)


# Which shown column hides with which counts (a percentage with its part or base).
_HIDDEN_FROM = {
    "pct_within_20": ("within_20", "known"),
    "pct_within_10": ("within_10", "known"),
    "median_miles": ("known",),
}


def _protected_districts(analysis: Analysis, frame: pd.DataFrame, *, secret: bytes) -> pd.DataFrame:
    """The district table's counts after the cell-key method: the headline columns as the
    Compliance map shows them, each placement kind as the map's placement-type filter shows
    it, the gap by its definition key (as the comparison page shows it)."""
    authority = analysis.authority
    included = _included(analysis)
    keyed = district_compliance(included, authority, by="home", with_keys=True)
    out = protect_district_table(
        keyed, secret=secret, definition=compliance_definition(analysis.as_at)
    ).set_index("district_code", drop=False)
    out = out.reindex(frame.index)
    for k in KIND_COLUMNS:
        sub = district_compliance(
            included[included["placement_kind"] == k], authority, by="home", with_keys=True
        )
        shown = protect_district_table(
            sub, secret=secret, definition=compliance_definition(analysis.as_at, kind=k)
        ).set_index("district_code")["children"]
        # a district with no child of this kind has no row: 0; a hidden count stays NaN (c)
        present = frame.index.isin(shown.index)
        out[k] = np.where(present, shown.reindex(frame.index).to_numpy(dtype=float), 0.0)
    for col in frame.columns:
        if col not in out.columns:
            out[col] = frame[col]
    if "gap" in frame.columns:
        out["gap"] = protect_gap(frame["gap"], frame["district_code"], secret=secret)
    return out


def _display(
    protected: pd.DataFrame,
    columns: list[str],
    *,
    counts: list[str],
    hidden_from: dict[str, tuple[str, ...]] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Protected values (NaN for c) as display values and a mask, for ``columns``: a count is
    hidden where it is NaN; a derived column (``hidden_from``: percentage or median → the counts
    it comes from, which need not be shown) where any of those is hidden."""
    hidden_from = _HIDDEN_FROM if hidden_from is None else hidden_from
    mask = pd.DataFrame(False, index=protected.index, columns=columns)
    for c in columns:
        if c in counts:
            mask[c] = protected[c].isna().to_numpy()
        elif c in hidden_from:
            m = np.zeros(len(protected), dtype=bool)
            for src in hidden_from[c]:
                if src in protected.columns:
                    m |= protected[src].isna().to_numpy()
            mask[c] = m
    data = protected[columns].astype(object)
    for c in columns:
        if c in counts:  # whole numbers, as the counts they stand for
            data[c] = pd.Series(
                [v if not isinstance(v, float) or v != v else int(v) for v in data[c]],
                index=data.index,
                dtype=object,
            )
    return data.where(~mask, SUPPRESSED), mask


def district_table(
    analysis: Analysis,
    coverage: CoverageFigures | None,
    *,
    suppress: bool,
    secret: bytes = b"",
) -> ReportTable:
    authority = analysis.authority
    comp = analysis.compliance_home.copy()
    included = _included(analysis)
    kinds = pd.crosstab(
        _home_group(included, authority).to_numpy(), included["placement_kind"].to_numpy()
    )
    kinds = kinds.reindex(index=comp["district_code"], columns=KIND_COLUMNS).fillna(0)
    kinds.loc[authority.code] = kinds.drop(index=authority.code, errors="ignore").sum()
    for k in KIND_COLUMNS:
        comp[k] = kinds[k].to_numpy(dtype=int)
    columns = [
        Column("district_code", "Code", "text"),
        Column("district_name", "District", "text"),
        Column("children", "Children"),
        Column("pct_within_20", "% within 20 miles", "pct"),
        Column("pct_within_10", "% within 10 miles", "pct"),
        Column("median_miles", "Median miles", "miles"),
        Column("not_known", "Distance not known"),
        *(Column(k, KIND_LABELS[k]) for k in KIND_COLUMNS),
    ]
    counts = ["children", "not_known", *KIND_COLUMNS]
    note = (
        "Headline cohort (UASC and short breaks excluded) by the district of the child's home "
        "postcode. Percentages and the median are of children with a known distance."
    )
    if coverage is not None:
        cov = coverage.districts.set_index("district_code")
        for key, label in SUPPLY_LABELS.items():
            if key in cov.columns:
                comp[key] = comp["district_code"].map(cov[key]).to_numpy(dtype=float)
                columns.append(Column(key, label))
        if "gap" in comp.columns:
            counts.append("gap")
        note += (
            " Carer households and places are supply figures (not suppressed); the coverage gap "
            "counts children and is suppressed like other counts."
        )
    frame = comp.set_index("district_code", drop=False)
    shown = [c.key for c in columns]
    if suppress:  # the cell-key method, as on the app's pages (the same cells, the same values)
        protected = _protected_districts(analysis, frame, secret=secret)
        res = _display(protected, shown, counts=counts)
    else:
        res = _suppress(frame[shown], suppress=False, counts=counts)
    return ReportTable(
        key="districts",
        title=f"Districts: placements within 20 and 10 miles of home, as at "
        f"{analysis.as_at:%d %B %Y}",
        columns=tuple(columns),
        data=res[0].reset_index(drop=True),
        mask=res[1].reset_index(drop=True),
        note=note,
        bold_rows=(len(frame) - 1,),
    )


def _suppress(
    frame: pd.DataFrame, *, suppress: bool, **kwargs: Any
) -> tuple[pd.DataFrame, pd.DataFrame]:
    if not suppress:
        return frame.copy(), pd.DataFrame(False, index=frame.index, columns=frame.columns)
    res = suppress_table(frame, **kwargs)
    return res.table, res.mask


def _protected_row(
    rows: pd.DataFrame,
    authority: Authority,
    *,
    secret: bytes,
    definition: tuple[Any, ...],
    row: str,
) -> pd.Series:
    """One row of figures (the total of ``rows``, or its ``row`` area) after the cell-key
    method, under ``definition`` (so a row that a Compliance map view also shows matches it)."""
    keyed = district_compliance(rows, authority, by="home", with_keys=True)
    prot = protect_district_table(keyed, secret=secret, definition=definition)
    return pd.Series(prot.set_index("district_code").loc[row])


def group_table(analysis: Analysis, *, suppress: bool, secret: bytes = b"") -> ReportTable | None:
    """Area groupings of districts (e.g. West / North / East Kent), when configured."""
    authority = analysis.authority
    if not authority.groups:
        return None
    inc = _included(analysis)
    home = _home_group(inc, authority)
    rows = []
    labels = []
    for name, codes in authority.groups.items():
        labels.append(name)
        rows.append((name, inc[home.isin(codes).to_numpy()]))
    rows.append((f"Outside {authority.name} or not known", inc[(home == OUTSIDE).to_numpy()]))
    rows.append((f"{authority.name} total", inc))
    frame = pd.DataFrame(
        [
            {"group": name, **district_compliance(sub, authority).iloc[-1][_STAT_COLUMNS]}
            for name, sub in rows
        ],
        index=[*labels, OUTSIDE, authority.code],
    )
    if suppress:  # each row as the Compliance map shows it with that area filter
        as_at = analysis.as_at
        prot = [
            _protected_row(
                inc[home.isin(authority.groups[name]).to_numpy()],
                authority,
                secret=secret,
                definition=compliance_definition(as_at, group=name),
                row=authority.code,
            )
            for name in labels
        ]
        prot.append(
            _protected_row(
                inc, authority, secret=secret, definition=compliance_definition(as_at), row=OUTSIDE
            )
        )
        prot.append(
            _protected_row(
                inc,
                authority,
                secret=secret,
                definition=compliance_definition(as_at),
                row=authority.code,
            )
        )
        protected = pd.DataFrame(prot, index=frame.index)
        protected["group"] = frame["group"]
        res = _display(protected, list(frame.columns), counts=["children", "not_known"])
    else:
        res = _suppress(frame, suppress=False)
    columns = (
        Column("group", "Area", "text"),
        *(c for c in _STAT_COLUMN_SPECS),
    )
    return ReportTable(
        key="groups",
        title=f"Areas of {authority.name}",
        columns=columns,
        data=res[0][[c.key for c in columns]].reset_index(drop=True),
        mask=res[1][[c.key for c in columns]].reset_index(drop=True),
        note="; ".join(
            f"{name}: {', '.join(authority.districts[c] for c in codes)}"
            for name, codes in authority.groups.items()
        )
        + ".",
        bold_rows=(len(frame) - 1,),
    )


COHORT_ROWS = [
    ("headline", "Headline cohort (UASC and short breaks excluded)"),
    ("disabled", "Disabled"),
    ("not_disabled", "Not disabled"),
    ("under_11", "Aged under 11"),
    ("11_plus", "Adolescents: aged 11 and over"),
    ("11_to_15", "  aged 11 to 15"),
    ("16_plus", "  aged 16 and over"),
    ("age_unknown", "Age not known"),
    ("uasc", "UASC (shown separately, not in the headline)"),
    ("short_break", "Short breaks (not in the headline)"),
]


# Cohort rows that a Compliance map filter also shows: (disabled, age band) of that filter.
_COHORT_FILTERS = {
    "headline": ("all", "all"),
    "disabled": ("disabled", "all"),
    "not_disabled": ("not_disabled", "all"),
    "11_to_15": ("all", "11-15"),
    "16_plus": ("all", "16+"),
}


def cohort_table(analysis: Analysis, *, suppress: bool, secret: bytes = b"") -> ReportTable:
    p = analysis.placements
    inc = _included(analysis)
    age = inc["age_years"].astype("Float64")
    subsets = {
        "headline": inc,
        "disabled": inc[inc["DISABLED"].astype(bool)],
        "not_disabled": inc[~inc["DISABLED"].astype(bool)],
        "under_11": inc[(age < 11).fillna(False).to_numpy(dtype=bool)],
        "11_plus": inc[(age >= 11).fillna(False).to_numpy(dtype=bool)],
        "11_to_15": inc[((age >= 11) & (age < 16)).fillna(False).to_numpy(dtype=bool)],
        "16_plus": inc[(age >= 16).fillna(False).to_numpy(dtype=bool)],
        "age_unknown": inc[age.isna().to_numpy(dtype=bool)],
        "uasc": p[p["cohort"] == Cohort.EXCLUDED_UASC.value],
        "short_break": p[p["cohort"] == Cohort.EXCLUDED_SHORT_BREAK.value],
    }
    rows = []
    for key, label in COHORT_ROWS:
        total = district_compliance(subsets[key], analysis.authority).iloc[-1]
        rows.append({"cohort": label, **{c: total[c] for c in _STAT_COLUMNS}})
    frame = pd.DataFrame(rows, index=[k for k, _ in COHORT_ROWS])
    counts = ["children", "not_known"]
    if suppress:  # each row by the cell-key method; rows a map filter shows match it
        prot = []
        for key, _label in COHORT_ROWS:
            dis, age_f = _COHORT_FILTERS.get(key, ("", ""))
            definition = (
                ("compliance", "home", analysis.as_at, dis, age_f, "all", "all")
                if dis
                else ("cohort", analysis.as_at, key)
            )
            prot.append(
                _protected_row(
                    subsets[key],
                    analysis.authority,
                    secret=secret,
                    definition=definition,
                    row=analysis.authority.code,
                )
            )
        protected = pd.DataFrame(prot, index=frame.index)
        protected["cohort"] = frame["cohort"]
        res = _display(protected, list(frame.columns), counts=counts)
    else:
        res = _suppress(frame, suppress=False)
    columns = (Column("cohort", "Cohort", "text"), *_STAT_COLUMN_SPECS)
    return ReportTable(
        key="cohorts",
        title="Cohorts: disabled children, adolescents, UASC",
        columns=columns,
        data=res[0][[c.key for c in columns]].reset_index(drop=True),
        mask=res[1][[c.key for c in columns]].reset_index(drop=True),
        note="Age at the as-at date. Disabled: local DISABLED flag or category of need N2. "
        "UASC and short breaks are outside the headline measure and shown for reference.",
        bold_rows=(0,),
    )


def _quarter_label(q: date) -> str:
    return f"{q:%b %Y}"


def trend_tables(
    trend: Trend, authority: Authority, *, suppress: bool, secret: bytes = b""
) -> tuple[ReportTable, ReportTable]:
    """% within 20 miles and children by district (rows) and quarter end (columns)."""
    areas = area_order(authority, trend.table["district_code"] if len(trend.table) else [])
    order = [*areas, authority.code]
    names = {**area_names(authority, areas), authority.code: f"{authority.name} total"}
    quarters = [q.isoformat() for q in trend.quarter_ends]
    base = pd.DataFrame(
        {"district_code": order, "district_name": [names[c] for c in order]}, index=order
    )
    if quarters:
        # protected: each quarter by the cell-key method, as the app's trend shows it
        t = protect_trend(trend.table, secret=secret) if suppress else trend.table.copy()
        t["q"] = [pd.Timestamp(x).date().isoformat() for x in t["quarter_end"]]
        t["pct_hidden"] = t["within_20"].isna() | t["known"].isna()
        # OUTSIDE stays in the children table so the column totals add up.
        children = t.pivot(index="district_code", columns="q", values="children")
        pct = t.pivot(index="district_code", columns="q", values="pct_within_20")
    else:
        children = pct = pd.DataFrame(index=order)
    rows_children = [*areas, OUTSIDE, authority.code]
    names_children = {**names, OUTSIDE: f"Outside {authority.name} or not known"}
    child_frame = pd.DataFrame(
        {
            "district_code": rows_children,
            "district_name": [names_children[c] for c in rows_children],
        },
        index=rows_children,
    )
    hidden = pd.DataFrame(False, index=child_frame.index, columns=child_frame.columns)
    pct_hidden = pd.DataFrame(False, index=order, columns=quarters)
    for q in quarters:
        counts_q = children[q].reindex(rows_children)
        hidden[q] = (counts_q.isna() & counts_q.index.isin(children.index)).to_numpy()
        child_frame[q] = counts_q.fillna(0).astype(int)
        if suppress:
            hide_q = t.loc[t["q"] == q].set_index("district_code")["pct_hidden"]
            pct_hidden[q] = hide_q.reindex(order).fillna(False).to_numpy(dtype=bool)
    shown = child_frame.astype(object).where(~hidden, SUPPRESSED)
    pct_frame = base.copy()
    pct_mask = pd.DataFrame(False, index=base.index, columns=base.columns)
    for q in quarters:
        hide = pct_hidden[q].to_numpy(dtype=bool)
        values = pct[q].reindex(order).to_numpy(dtype=float).astype(object)
        values[hide] = SUPPRESSED
        pct_frame[q] = values
        pct_mask[q] = hide
    qcols = tuple(Column(q, _quarter_label(date.fromisoformat(q)), "pct") for q in quarters)
    head = (Column("district_code", "Code", "text"), Column("district_name", "District", "text"))
    note = "Quarter ends up to the as-at date; the census and distances are recomputed each day."
    if trend.skipped:
        note += f" {len(trend.skipped)} earlier quarter(s) had no child in the data."
    pct_table = ReportTable(
        key="trend",
        title="Trend: % within 20 miles by quarter (headline cohort)",
        columns=head + qcols,
        data=pct_frame.reset_index(drop=True),
        mask=pct_mask.reset_index(drop=True),
        note=note,
        bold_rows=(len(order) - 1,),
    )
    children_table = ReportTable(
        key="trend_children",
        title="Trend: children in the headline cohort by quarter",
        columns=head + tuple(Column(c.key, c.label, "int") for c in qcols),
        data=shown.reset_index(drop=True),
        mask=hidden.reset_index(drop=True),
        note=note,
        bold_rows=(len(rows_children) - 1,),
    )
    return pct_table, children_table


def coverage_list(
    frame: pd.DataFrame,
    *,
    key: str,
    title: str,
    suppress: bool,
    rows: int = 15,
    secret: bytes = b"",
) -> ReportTable:
    top = frame.head(rows).reset_index(drop=True)
    counts = [
        c
        for c in top.columns
        if any(w in str(c).lower() for w in CHILD_COUNT_WORDS)
        and pd.api.types.is_numeric_dtype(top[c])
    ]
    # gains are differences of gaps: protected like them, or the gap after would follow
    counts += [c for c in ("marginal_gain", "cumulative_gain") if c in top.columns]
    if suppress and counts:  # the cell-key method; each cell keyed by its definition
        ids: list[object] = [str(v) for v in top[top.columns[0]]] if len(top.columns) else []
        protected = protect_columns(top, counts, secret=secret, definition=(key,), row_ids=ids)
        shown, hidden = _display(protected, list(top.columns), counts=counts, hidden_from={})
    else:
        shown, hidden = _suppress(top, suppress=False)
    note = (
        "c: a small number (0 to 6) not shown; other counts may differ by up to 2."
        if (suppress and counts)
        else ""
    )
    if key == "recruitment":
        note = (
            "Each row adds one new household (one place, approved for any child); the gain is "
            "how many more children would then have a suitable place within 20 miles of home."
        )
    if top.empty:
        note = "None: no area has a shortage, or no site would bring a further child within reach."
    columns = tuple(
        Column(
            str(c),
            COVERAGE_LABELS.get(str(c), str(c).replace("_", " ").capitalize()),
            _kind_of(top[c]),
        )
        for c in top.columns
    )
    return ReportTable(key=key, title=title, columns=columns, data=shown, mask=hidden, note=note)


def _kind_of(values: pd.Series) -> ColumnKind:
    if pd.api.types.is_integer_dtype(values) or pd.api.types.is_bool_dtype(values):
        return "int"
    if pd.api.types.is_float_dtype(values):
        finite = values.dropna()
        if len(finite) and np.allclose(finite, np.round(finite)):
            return "int"
        return "ratio"
    return "text"


@dataclass(frozen=True)
class CoverageFigures:
    """Carer supply for the report (from :mod:`geo.coverage.model`).

    ``districts``: one row per district code (and the authority total) with at least
    ``district_code, carers, suitable_places_20mi, gap``. ``shortage_areas`` and ``recruitment``
    are shown as given (top ``rows`` of each), child-count columns suppressed.
    """

    districts: pd.DataFrame
    shortage_areas: pd.DataFrame | None = None
    recruitment: pd.DataFrame | None = None
    notes: tuple[str, ...] = ()
    # the counts behind the coverage notes (app.reports.model.coverage_notes words them)
    facts: dict[str, int] = field(default_factory=dict)


def benchmark_table(ranks: pd.DataFrame, authority: Authority) -> ReportTable | None:
    """The DfE's published figures for the latest year (:func:`geo.measures.ranks`): the
    authority, its rank among itself and its statistical neighbours, their median, its region
    and England. Published figures, symbols kept (``c``, ``x``, ``z``): no further disclosure
    control."""
    if ranks is None or ranks.empty:
        return None
    from geo.measures.dfe_tables import MEASURE_BY_NAME

    year = int(ranks["year"].max())
    latest = ranks[ranks["year"] == year]
    data = pd.DataFrame(
        {
            "measure": [MEASURE_BY_NAME[m].label for m in latest["measure"]],
            "value": latest["value"].astype(str).to_numpy(),
            "rank": [
                "" if pd.isna(r) else f"{int(r)} of {int(n)}"
                for r, n in zip(latest["rank"], latest["ranked"], strict=True)
            ],
            "neighbours_median": latest["neighbours_median"].astype(str).to_numpy(),
            "region": latest["region"].astype(str).to_numpy(),
            "england": latest["england"].astype(str).to_numpy(),
        }
    )
    columns = (
        Column("measure", "Measure", "text"),
        Column("value", authority.name, "text"),
        Column("rank", "Rank among neighbours (1 = highest)", "text"),
        Column("neighbours_median", "Statistical neighbours' median", "text"),
        Column("region", "Region", "text"),
        Column("england", "England", "text"),
    )
    return ReportTable(
        key="benchmark",
        title=f"How {authority.name} compares: year ending 31 March {year} (DfE published)",
        columns=columns,
        data=data,
        mask=pd.DataFrame(False, index=data.index, columns=data.columns),
        note="Source: Department for Education, Children looked after in England including "
        "adoptions (Open Government Licence v3.0). The DfE counts every child looked after at "
        "31 March (UASC included, distance not known in the denominator), so its % within 20 "
        "miles differs from the headline above. c: suppressed by the DfE; x: not available; "
        "z: not applicable.",
    )
