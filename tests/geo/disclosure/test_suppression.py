"""Disclosure control on hand-made tables, checked by an independent linear programme."""

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from geo.disclosure.suppression import SUPPRESSED, is_small, suppress_counts, suppress_table


def intervals(values: pd.DataFrame, mask: pd.DataFrame, relations) -> dict:
    """Feasible [min, max] of every hidden cell given the shown cells, the relations and x ≥ 0
    (an attacker's best inference). ``relations``: list of (total_cell, [part_cells])."""
    hidden = [(r, c) for r in values.index for c in values.columns if mask.loc[r, c]]
    k = {cell: i for i, cell in enumerate(hidden)}
    a_eq, b_eq = [], []
    for total, parts in relations:
        row = np.zeros(len(hidden))
        rhs = 0.0
        for cell, coef in [(total, -1.0), *((p, 1.0) for p in parts)]:
            if cell in k:
                row[k[cell]] += coef
            else:
                rhs -= coef * values.loc[cell]
        if row.any():
            a_eq.append(row)
            b_eq.append(rhs)
    out = {}
    for cell, i in k.items():
        bounds = [(0, None)] * len(hidden)
        c = np.zeros(len(hidden))
        c[i] = 1
        lo = linprog(c, A_eq=a_eq or None, b_eq=b_eq or None, bounds=bounds).fun
        hi = linprog(-c, A_eq=a_eq or None, b_eq=b_eq or None, bounds=bounds)
        out[cell] = (lo, np.inf if hi.status == 3 else -hi.fun)
    return out


def assert_protected(values, mask, relations):
    for cell, (lo, hi) in intervals(values, mask, relations).items():
        assert hi - lo > 0.5, f"hidden cell {cell} is determined: [{lo}, {hi}]"


def test_primary_small_counts_hidden_zero_and_six_shown():
    assert list(is_small(np.array([0, 1, 5, 6, np.nan]))) == [False, True, True, False, False]
    t = pd.DataFrame({"n": [0, 1, 5, 6, 40]})
    res = suppress_table(t, counts=["n"])
    assert list(res.table["n"]) == [0, "c", "c", 6, 40]
    assert list(res.primary["n"]) == [False, True, True, False, False]


def test_one_suppressed_cell_in_column_revealed_by_total_forces_next_smallest():
    # Without secondary suppression B = 33 - 10 - 20 = 3.
    t = pd.DataFrame({"n": [10, 3, 20, 33]}, index=["A", "B", "C", "Total"])
    res = suppress_table(t, counts=["n"], total_row="Total")
    assert list(res.table["n"]) == ["c", "c", 20, 33]
    assert res.primary["n"].tolist() == [False, True, False, False]
    assert_protected(t, res.mask, [(("Total", "n"), [("A", "n"), ("B", "n"), ("C", "n")])])
    assert list(suppress_counts([10, 3, 20, 33], total_index=3)) == [True, True, False, False]


def test_one_suppressed_cell_in_row_revealed_by_row_total():
    # children = in_house + ifa + residential in each row; ifa = 4 would be 30 - 20 - 6.
    t = pd.DataFrame(
        {"children": [30, 52], "in_house": [20, 40], "ifa": [4, 6], "residential": [6, 6]},
        index=["Ashford", "Dover"],
    )
    res = suppress_table(
        t,
        counts=["children", "in_house", "ifa", "residential"],
        column_groups=[("children", ["in_house", "ifa", "residential"])],
    )
    assert res.table.loc["Ashford"].tolist() == [30, 20, "c", "c"]
    assert res.table.loc["Dover"].tolist() == [52, 40, 6, 6]
    assert_protected(
        t,
        res.mask,
        [
            (("Ashford", "children"), [("Ashford", c) for c in ("in_house", "ifa", "residential")]),
            (("Dover", "children"), [("Dover", c) for c in ("in_house", "ifa", "residential")]),
        ],
    )


def test_district_with_three_children_hides_its_within_20_and_percentages():
    t = pd.DataFrame(
        {
            "children": [40, 3, 25, 68],
            "within_20": [30, 2, 20, 52],
            "pct_within_20": [75.0, 66.7, 80.0, 76.5],
            "median_miles": [9.1, 22.0, 8.0, 9.0],
        },
        index=["Ashford", "Dartford", "Dover", "Kent"],
    )
    res = suppress_table(
        t,
        counts=["children", "within_20"],
        derived={"pct_within_20": ["within_20", "children"], "median_miles": ["children"]},
        total_row="Kent",
        row_base="children",
    )
    d = res.table.loc["Dartford"]
    assert d.tolist() == [SUPPRESSED] * 4
    # within_20 = 2 is hidden because the group (3 children) is, and then Dover (the smallest
    # other district) protects it in both columns; the total is kept.
    assert res.table.loc["Dover"].tolist() == ["c", "c", "c", "c"]
    assert res.table.loc["Ashford"].tolist() == [40, 30, 75.0, 9.1]
    assert res.table.loc["Kent"].tolist() == [68, 52, 76.5, 9.0]
    rels = [
        (("Kent", c), [(r, c) for r in ("Ashford", "Dartford", "Dover")])
        for c in ("children", "within_20")
    ]
    assert_protected(t[["children", "within_20"]], res.mask[["children", "within_20"]], rels)


def test_zero_is_not_used_for_secondary_while_a_non_zero_cell_exists():
    t = pd.DataFrame({"n": [0, 3, 0, 9, 30, 42]}, index=list("ABCDEF"))
    res = suppress_table(t, counts=["n"], total_row="F")
    assert list(res.table["n"]) == [0, "c", 0, "c", 30, 42]


def test_zero_hidden_when_it_is_the_only_other_part():
    # children = known + not_known: not_known 2 hidden; known is 7 → hidden too (next smallest).
    t = pd.DataFrame({"children": [9], "known": [7], "not_known": [2]})
    res = suppress_table(
        t,
        counts=["children", "known", "not_known"],
        column_groups=[("children", ["known", "not_known"])],
    )
    assert res.table.iloc[0].tolist() == [9, "c", "c"]
    # a secondary cell whose only partner is 0: the 0 is hidden rather than the total
    t = pd.DataFrame({"children": [9, 4, 13], "a": [9, 4, 13], "b": [0, 0, 0]}, index=list("xyT"))
    res = suppress_table(
        t,
        counts=["children", "a", "b"],
        total_row="T",
        column_groups=[("children", ["a", "b"])],
    )
    assert res.mask.loc["y", "a"] and res.mask.loc["x", "a"]
    assert not res.mask.loc["T"].any()
    rels = [(("T", c), [("x", c), ("y", c)]) for c in ("children", "a", "b")]
    rels += [((r, "children"), [(r, "a"), (r, "b")]) for r in "xyT"]
    assert_protected(t, res.mask, rels)


def test_total_hidden_only_when_nothing_else_can_be():
    t = pd.DataFrame({"n": [4, 4]}, index=["only", "Total"])
    res = suppress_table(t, counts=["n"], total_row="Total")
    assert res.mask["n"].tolist() == [True, True]
    t = pd.DataFrame({"n": [4, 20]}, index=["only", "Total"])  # inconsistent, still hidden
    assert suppress_table(t, counts=["n"], total_row="Total").mask["n"].all()


def test_two_way_table_with_row_and_column_totals_is_protected():
    t = pd.DataFrame(
        {
            "children": [22, 31, 17, 70],
            "in_house": [12, 20, 8, 40],
            "ifa": [7, 9, 4, 20],
            "residential": [3, 2, 5, 10],
        },
        index=["Ashford", "Dover", "Thanet", "Kent"],
    )
    parts = ["in_house", "ifa", "residential"]
    res = suppress_table(
        t,
        counts=["children", *parts],
        total_row="Kent",
        column_groups=[("children", parts)],
    )
    rels = [((r, "children"), [(r, p) for p in parts]) for r in t.index]
    rels += [(("Kent", c), [(r, c) for r in t.index[:-1]]) for c in ["children", *parts]]
    assert_protected(t, res.mask, rels)
    # every 1-5 count is hidden, the totals are not
    assert res.mask["residential"].iloc[:3].all()
    assert not res.mask.loc["Kent"].any() and not res.mask["children"].any()


def test_cohort_table_with_overlapping_partitions():
    t = pd.DataFrame(
        {"children": [100, 19, 81, 40, 57, 3]},
        index=["all", "disabled", "not_disabled", "under_11", "11_plus", "age_unknown"],
    )
    res = suppress_table(
        t,
        counts=["children"],
        row_groups=[
            ("all", ["disabled", "not_disabled"]),
            ("all", ["under_11", "11_plus", "age_unknown"]),
        ],
    )
    assert res.table["children"].tolist() == [100, 19, 81, "c", 57, "c"]


@pytest.mark.parametrize("seed", range(12))
def test_random_two_way_tables_no_hidden_cell_determined(seed):
    rng = np.random.default_rng(seed)
    body = rng.choice(
        [0, 1, 2, 3, 4, 7, 12, 25], size=(5, 4), p=[0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 0.2, 0.1]
    )
    cols = ["a", "b", "c", "d"]
    t = pd.DataFrame(body, columns=cols, index=list("pqrst"))
    t["tot"] = t[cols].sum(axis=1)
    t.loc["T"] = t.sum()
    res = suppress_table(
        t,
        counts=[*cols, "tot"],
        total_row="T",
        column_groups=[("tot", cols)],
    )
    small = (t >= 1) & (t <= 5)
    assert (res.mask | ~small).all().all()
    rels = [((r, "tot"), [(r, c) for c in cols]) for r in t.index]
    rels += [(("T", c), [(r, c) for r in "pqrst"]) for c in [*cols, "tot"]]
    assert_protected(t, res.mask, rels)


def test_nan_counts_untouched_and_bad_arguments_named():
    t = pd.DataFrame({"n": [np.nan, 3.0, 12.0]})
    res = suppress_table(t, counts=["n"])
    assert np.isnan(res.table["n"].iloc[0]) and res.table["n"].iloc[1] == "c"
    with pytest.raises(ValueError, match="nope"):
        suppress_table(t, counts=["nope"])
    with pytest.raises(ValueError, match="row label"):
        suppress_table(t, counts=["n"], total_row="missing")
    with pytest.raises(ValueError, match="not listed in counts"):
        suppress_table(t.assign(m=1), counts=["n"], derived={"n": ["m"]})
