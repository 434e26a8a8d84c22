"""A differencing attack on everything a commissioner can see for one census date (issue 23).

It asks the app's own view functions for every Compliance map view (both groupings, both
distances, every filter combination: 2 x 2 x 3 x 5 x 5 x 4 = 1,200 views; their KPI cards and
hover text are built from the same rows), the excluded-children cards, the comparison page, the
trend's as-at quarter and the report's tables, and reads what each shows. It then writes every
shown figure as a constraint on the children behind it - an exact count of a known set of
children, a range where the figure is perturbed or ``c`` (from the published perturbation
table) - and solves, for each hidden count whose true value is 1 to 5, the smallest and largest
value the constraints allow (linear programming, HiGHS; rounded inwards to whole children, so
a cell is "recovered" when only one whole number is possible). The test knows the truth: it
builds the sets of children from the child-level rows, as an attacker who knew the structure
would write them.

Run as a script for the whole set of hidden cells (the test solves a stratified sample)::

    .venv/bin/python -m tests.app.attack [--cells all|N] [--exact]

``--exact`` attacks the same views with the counts shown exactly except 1-5 (the old
table-by-table rule without secondary suppression), for the before/after.
"""

from __future__ import annotations

import argparse
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from app.data.store import DatasetStore, Filters
from app.views import compliance_view
from geo.disclosure import PTABLE
from geo.measures import area_of
from geo.ssda903.spec import AGE_BAND_LABELS, age_band_index

COUNTS = ("children", "known", "within_20", "within_10", "not_known")
DISABLED = ("all", "disabled", "not_disabled")
AGES = ("all", *AGE_BAND_LABELS)
KINDS = ("all", "in_house_foster", "ifa_foster", "residential", "other")


@dataclass
class Cells:
    """Shown figures as (set of children, shown value): one row per distinct set."""

    members: list[np.ndarray] = field(default_factory=list)  # boolean over the children
    shown: list[Any] = field(default_factory=list)
    seen: dict[bytes, int] = field(default_factory=dict)
    conflicts: int = 0  # the same children shown two different ways

    def add(self, members: np.ndarray, shown: Any) -> None:
        key = np.packbits(members).tobytes()
        value = "c" if shown is None or (isinstance(shown, float) and shown != shown) else shown
        if value != "c":
            value = int(value)
        if key in self.seen:
            # the same children shown two ways (an empty set may show 0 or c by definition)
            if self.shown[self.seen[key]] != value and members.any():
                self.conflicts += 1
            if value == 0:  # a 0 is exact: keep the most telling
                self.shown[self.seen[key]] = 0
            return
        self.seen[key] = len(self.members)
        self.members.append(members)
        self.shown.append(value)


def _value(x: Any) -> Any:
    return "c" if isinstance(x, float) and x != x else x


def collect(
    store: DatasetStore, dataset_id: str | None = None, *, exact: bool = False
) -> tuple[Cells, pd.DataFrame]:
    """Every shown count of children for the dataset's census date, with the sets behind it."""
    ds = store.get(dataset_id)
    a = store.analysis(ds.id, ds.as_at)
    p = a.placements.reset_index(drop=True)
    included = (p["cohort"] == "included").to_numpy()
    band = age_band_index(p["age_years"].astype("Float64").to_numpy(float, na_value=np.nan))
    known = p["distance_miles"].notna().to_numpy()
    status = {
        "children": np.ones(len(p), dtype=bool),
        "known": known,
        "within_20": p["within_20"].astype(bool).to_numpy(),
        "within_10": p["within_10"].astype(bool).to_numpy(),
        "not_known": ~known,
    }
    areas = {v: area_of(p, store.authority, by=v).to_numpy() for v in ("home", "placement")}
    home_code = p["home_district_code"].to_numpy()
    cells = Cells()
    truth = p.assign(band=band)
    # the 10- and 20-mile views show the same counts (checked on the first view of each
    # grouping); their percentages come from those counts
    for view in ("home", "placement"):
        for dis, age, kind, group in itertools.product(
            DISABLED, AGES, KINDS, ("all", *store.authority.groups)
        ):
            f = Filters(as_at=ds.as_at, disabled=dis, age_band=age, kind=kind, group=group)
            table = compliance_view(store, ds.id, f, threshold=20, view=view).table
            if dis == age == kind == group == "all":
                other = compliance_view(store, ds.id, f, threshold=10, view=view).table
                assert other[list(COUNTS)].equals(table[list(COUNTS)])
            sel = included.copy()
            if dis != "all":
                flag = p["DISABLED"].astype(bool).to_numpy()
                sel &= flag if dis == "disabled" else ~flag
            if age != "all":
                sel &= band == AGE_BAND_LABELS.index(age)
            if kind != "all":
                sel &= (p["placement_kind"] == kind).to_numpy()
            if group != "all":
                sel &= np.isin(home_code, list(store.authority.groups[group]))
            for r in table.itertuples(index=False):
                rows = sel if r.is_total else sel & (areas[view] == r.district_code)
                for c in COUNTS:
                    true = int((rows & status[c]).sum())
                    shown = _value(getattr(r, c))
                    if exact:
                        shown = "c" if 1 <= true <= 5 else true
                    cells.add(rows & status[c], shown)
    # the UASC / short-break cards
    v = compliance_view(store, ds.id, Filters(as_at=ds.as_at), threshold=20, view="home")
    for name, cohort in (("uasc", "excluded_uasc"), ("short_break", "excluded_short_break")):
        rows = (p["cohort"] == cohort).to_numpy()
        shown = v.excluded[name]
        shown = "c" if shown == "c" else int(shown.replace(",", ""))
        if exact:
            shown = "c" if 1 <= rows.sum() <= 5 else int(rows.sum())
        cells.add(rows, shown)
    if not exact:  # the report's cohort rows (the others repeat map views)
        _report_cells(store, ds, p, included, band, known, cells)
    return cells, truth


def _report_cells(
    store: DatasetStore,
    ds: Any,
    p: pd.DataFrame,
    included: np.ndarray,
    band: np.ndarray,
    known: np.ndarray,
    cells: Cells,
) -> None:
    from app.reports import build_report
    from geo.measures import compliance_trend

    analysis = store.analysis(ds.id, ds.as_at)
    trend = compliance_trend(ds.data, store.authority, as_at=ds.as_at, quarters=1, with_keys=True)
    report = build_report(analysis, trend=trend, secret=ds.secret)
    age = p["age_years"].astype("Float64")
    rows = {
        "Aged under 11": included & (age < 11).fillna(False).to_numpy(dtype=bool),
        "Adolescents: aged 11 and over": included & (age >= 11).fillna(False).to_numpy(bool),
        "Age not known": included & np.isnan(band),
    }
    data = report.cohorts.data.set_index("cohort")
    for label, sel in rows.items():
        cells.add(sel, _value(data.loc[label, "children"]))
        cells.add(sel & ~known, _value(data.loc[label, "not_known"]))
    kinds = report.districts.data.set_index("district_code")
    home = area_of(p, store.authority, by="home").to_numpy()
    for code in kinds.index:
        in_row = included if code == store.authority.code else included & (home == code)
        cells.add(
            in_row & (p["placement_kind"] == "other_foster").to_numpy(),
            _value(kinds.loc[code, "other_foster"]),
        )


def attack(cells: Cells, *, limit: int | None = None, exact: bool = False) -> dict[str, Any]:
    """Bounds on every hidden cell of true value 1-5 (or a stratified sample of ``limit``)."""
    import highspy

    members = np.array(cells.members)
    # atoms: children with the same membership pattern across all cells
    patterns, atom_of = np.unique(members.T, axis=0, return_inverse=True)
    atom_count = np.bincount(atom_of.ravel(), minlength=len(patterns))
    matrix = patterns.T.astype(float)  # cells x atoms
    true = matrix @ atom_count
    lo, hi = np.zeros(len(true)), np.zeros(len(true))
    for i, s in enumerate(cells.shown):
        if exact and s != "c":
            lo[i] = hi[i] = s
        elif exact:
            lo[i], hi[i] = 1, 5
        else:
            lo[i], hi[i] = PTABLE.bounds(s)
    assert np.all((lo <= true) & (true <= hi)), "a shown figure is outside its own bounds"
    target = np.flatnonzero((true >= 1) & (true <= 5))
    if limit is not None and limit < len(target):
        # a stratified sample: every true value 1-5 in proportion, spread over the cells
        order = np.argsort(true[target], kind="stable")
        target = target[order[np.linspace(0, len(order) - 1, limit).round().astype(int)]]
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    n = matrix.shape[1]
    h.addVars(n, np.zeros(n), np.full(n, highspy.kHighsInf))
    for i in range(len(true)):
        idx = np.flatnonzero(matrix[i]).astype(np.int32)
        h.addRow(float(lo[i]), float(hi[i]), len(idx), idx, np.ones(len(idx)))
    cols = np.arange(n, dtype=np.int32)
    recovered, widths = 0, []
    started = time.perf_counter()
    for i in target:
        values = []
        for sense in (highspy.ObjSense.kMinimize, highspy.ObjSense.kMaximize):
            h.changeObjectiveSense(sense)
            h.changeColsCost(n, cols, matrix[i])
            h.run()
            values.append(h.getInfo().objective_function_value)
        low, high = np.ceil(values[0] - 1e-6), np.floor(values[1] + 1e-6)
        widths.append(int(high - low))
        recovered += int(low == high == true[i])
    return {
        "shown_cells": len(true),
        "children_groups": n,
        "hidden_true_1_to_5": int(((true >= 1) & (true <= 5)).sum()),
        "attacked": len(target),
        "recovered": recovered,
        "width_counts": np.bincount(widths).tolist() if widths else [],
        "conflicts": cells.conflicts,
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    from app.settings import Settings

    parser = argparse.ArgumentParser()
    parser.add_argument("--cells", default="all")
    parser.add_argument("--exact", action="store_true")
    args = parser.parse_args()
    store = DatasetStore(Settings.from_env())
    cells, _ = collect(store, exact=args.exact)
    limit = None if args.cells == "all" else int(args.cells)
    print(attack(cells, limit=limit, exact=args.exact))


if __name__ == "__main__":
    main()
