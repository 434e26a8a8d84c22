"""Coverage: hand-made layouts with obvious answers, invariants, and what-if = full recompute."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.coverage import (
    AREA_COLUMNS,
    DISTRICT_COLUMNS,
    CoverageModel,
    Demand,
    Matching,
    Supply,
    age_band_bits,
    demand_from_analysis,
    greedy_assignment,
    suits,
    supply_from_register,
)
from geo.spatial import METRES_PER_MILE, load_authority
from geo.ssda903 import CATEGORY_BIT, Category, parse_categories, read_carers

E0, N0 = 500_000.0, 200_000.0  # an arbitrary origin in EPSG:27700 metres
ALL_AGES = parse_categories("0-4;5-10;11-15;16+")[0]


def cats(text: str) -> int:
    mask, bad = parse_categories(text)
    assert not bad
    return mask


def on_line(miles: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """Points due east of the origin at the given DfE distances (metres = miles × 1609.3)."""
    return E0 + np.asarray(miles, dtype=float) * METRES_PER_MILE, np.full(len(miles), N0)


def line_model(
    child_miles: list[float],
    carer_miles: list[float],
    *,
    places: list[int] | None = None,
    categories: list[int] | None = None,
    ages: list[float] | None = None,
    disabled: list[bool] | None = None,
    **kw,
) -> CoverageModel:
    ce, cn = on_line(child_miles)
    ke, kn = on_line(carer_miles)
    demand = Demand.from_arrays(
        easting_m=ce,
        northing_m=cn,
        age_years=ages if ages is not None else [10] * len(child_miles),
        disabled=disabled,
        district_code=["D1"] * len(child_miles),
    )
    supply = Supply.from_arrays(
        easting_m=ke,
        northing_m=kn,
        places=places if places is not None else [1] * len(carer_miles),
        vacant=places if places is not None else [1] * len(carer_miles),
        categories=categories if categories is not None else [ALL_AGES] * len(carer_miles),
        district_code=["D1"] * len(carer_miles),
    )
    return CoverageModel(demand, supply, **kw)


# --- the obvious answers ----------------------------------------------------------------------


def test_one_carer_with_two_places_and_three_children_leaves_a_gap_of_one():
    m = line_model([0.0, 1.0, 2.0], [1.5], places=[2])
    r = m.result()
    assert r.gap == 1 and m.gap == 1
    assert r.children_at_risk == 3  # any of the three could be the one left out
    shares = m.matching.shortage().share
    assert np.allclose(shares, 1 / 3)
    row = r.district.set_index("district_code").loc["D1"]
    assert row["children"] == 3 and row["carers"] == 1 and row["approved_places"] == 2
    assert row["suitable_places_20mi"] == 2 and row["gap"] == 1
    assert row["places_per_child_2sfca"] == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("carer_miles", "covers"),
    [(20.0, True), (20.04, True), (20.06, False), (20.1, False), (19.95, True)],
)
def test_twenty_miles_is_the_rounded_dfe_distance(carer_miles, covers):
    m = line_model([0.0], [carer_miles])
    assert m.gap == (0 if covers else 1)
    assert m.adjacency.nnz == int(covers)


def test_categories_exclude_children_the_carer_is_not_approved_for():
    # a 15-year-old and a disabled 7-year-old, one carer each, next door
    ages = [15, 7]
    disabled = [False, True]
    young = cats("0-4;5-10")
    assert (
        line_model([0, 0], [0, 0], categories=[young, young], ages=ages, disabled=disabled).gap == 2
    )
    fits = [cats("11-15;16+"), cats("5-10;disability")]
    assert line_model([0, 0], [0, 0], categories=fits, ages=ages, disabled=disabled).gap == 0
    # an unknown age matches any age band; needs must all be covered
    assert suits(age_band_bits(np.array([np.nan]))[0], cats("16+"))
    sibling_need = CATEGORY_BIT[Category.SIBLINGS] | age_band_bits(np.array([12]))[0]
    assert not suits(sibling_need, cats("11-15"))
    assert suits(sibling_need, cats("11-15;siblings"))


def test_deregistered_and_no_vacancy_carers(write_csv):
    path = write_csv(
        "carers.csv",
        [
            "CARER_ID,POSTCODE,STATUS,APPROVED_PLACES,OCCUPIED_PLACES,PROVIDER,CATEGORIES",
            "GONE,ME14 1XQ,deregistered,3,0,in_house,0-4;5-10;11-15;16+",
            "FULL,ME14 1XQ,approved,2,2,in_house,0-4;5-10;11-15;16+",
        ],
    )
    supply = supply_from_register(read_carers(path))
    assert list(supply.carer_id) == ["FULL"]  # a deregistered carer gives no places at all
    home = read_carers(path).carers.iloc[0]
    demand = Demand.from_arrays(
        easting_m=[home["easting_m"]] * 2, northing_m=[home["northing_m"]] * 2, age_years=[9, 9]
    )
    structural = CoverageModel(demand, supply)
    assert structural.gap == 0  # its two approved places can hold the two children
    row = structural.result().district.iloc[-1]
    assert row["vacant_places"] == 0 and row["vacant_suitable_places_per_child"] == 0
    vacant = CoverageModel(demand, supply, places_basis="vacant")
    assert vacant.gap == 2  # no vacancy: nothing for a child entering care now
    assert vacant.result().district.iloc[-1]["suitable_places_20mi"] == 0


def test_max_flow_finds_the_optimum_where_greedy_does_not():
    # greedy by scarcity (all have 2 options) sends the child at 33 to the carer at 37, then the
    # child at 38 to 57, and two children are left; the optimum leaves one.
    m = line_model([33, 38, 52, 43], [37, 57, 15])
    assert m.gap == 1
    assert m.greedy_gap() == 2


def test_two_step_floating_catchment_counts_each_place_once():
    m = line_model(
        [0, 1, 2, 3, 30, 31], [0.5, 2.5, 30.5, 80], places=[2, 1, 3, 4], ages=[3, 7, 12, 16, 9, 9]
    )
    # step 1 + step 2: sum over children of places-per-child = places of carers that reach one
    assert m._fca.sum() == pytest.approx(2 + 1 + 3)
    assert m._efca.sum() == pytest.approx(2 + 1 + 3)


# --- a realistic synthetic layout (no postcodes needed) ----------------------------------------


def synthetic_layout(
    n_children: int = 420, n_carers: int = 300, *, seed: int = 11
) -> tuple[Demand, Supply]:
    """Children in a few towns over a 110 × 60 km county split into four districts; carers
    thinner in the west (like West Kent); few carers for disabled children and adolescents."""
    rng = np.random.default_rng(seed)
    towns = np.array([[15, 20], [30, 45], [55, 30], [80, 15], [95, 45], [70, 50]]) * 1000.0
    t = rng.integers(0, len(towns), n_children)
    cxy = towns[t] + rng.normal(0, 4000, (n_children, 2))
    west = rng.random(n_carers) < 0.2
    kx = np.where(west, rng.uniform(0, 40_000, n_carers), rng.uniform(40_000, 110_000, n_carers))
    kxy = np.column_stack([kx, rng.uniform(0, 60_000, n_carers)])
    cxy += (E0, N0)
    kxy += (E0, N0)

    def district(x: np.ndarray) -> list[str]:
        return [f"D{int(min(3, (v - E0) // 27_500)) + 1}" for v in x]

    def sector(xy: np.ndarray) -> list[str]:
        return [f"S{int((x - E0) // 4000)}-{int((y - N0) // 4000)}" for x, y in xy]

    options = ["0-4;5-10", "5-10;11-15", "11-15;16+", "0-4;5-10;11-15;16+", "11-15;disability"]
    demand = Demand.from_arrays(
        easting_m=cxy[:, 0],
        northing_m=cxy[:, 1],
        age_years=rng.integers(0, 18, n_children),
        disabled=rng.random(n_children) < 0.15,
        siblings=rng.random(n_children) < 0.05,
        district_code=district(cxy[:, 0]),
        sector=sector(cxy),
    )
    supply = Supply.from_arrays(
        carer_id=[f"K{i}" for i in range(n_carers)],
        easting_m=kxy[:, 0],
        northing_m=kxy[:, 1],
        places=rng.integers(1, 3, n_carers),
        vacant=rng.integers(0, 2, n_carers),
        categories=[cats(o) for o in rng.choice(options, n_carers, p=[0.3, 0.3, 0.2, 0.15, 0.05])],
        district_code=district(kxy[:, 0]),
        sector=sector(kxy),
    )
    return demand, supply


def assert_same_result(a: CoverageModel, b: CoverageModel) -> None:
    ra, rb = a.result(), b.result()
    assert ra.gap == rb.gap and ra.children_at_risk == rb.children_at_risk
    pd.testing.assert_frame_equal(ra.district, rb.district)
    pd.testing.assert_frame_equal(ra.areas, rb.areas)
    pd.testing.assert_frame_equal(ra.shortage, rb.shortage)


@pytest.fixture(scope="module")
def layout() -> tuple[Demand, Supply]:
    return synthetic_layout()


def test_tables_add_up_and_carry_no_locations(layout):
    demand, supply = layout
    m = CoverageModel(demand, supply)
    r = m.result()
    assert r.gap > 0
    assert list(r.district.columns) == DISTRICT_COLUMNS
    assert list(r.areas.columns) == AREA_COLUMNS
    body, total = r.district.iloc[:-1], r.district.iloc[-1]
    for col in (
        "children",
        "carers",
        "approved_places",
        "vacant_places",
        "gap",
        "children_at_risk",
    ):
        assert body[col].sum() == total[col], col
    for kind, areas in r.areas.groupby("area_type"):
        assert areas["children"].sum() == len(demand), kind
        assert areas["gap"].sum() == r.gap, kind
    assert set(r.areas["area_type"]) == {"sector", "grid_5km"}
    # the gap sits where supply is thin: the west district has the largest share per child
    per_child = body.set_index("district_code")["gap"] / body.set_index("district_code")["children"]
    assert per_child.idxmax() == "D1"
    # shortage ranking: by cohort and area type, rank 1 has the largest gap
    for _, t in r.shortage.groupby(["cohort", "area_type"]):
        assert t["rank"].tolist() == list(range(1, len(t) + 1))
        assert t["gap"].is_monotonic_decreasing
    assert {"all", "disabled", "adolescents_11_plus", "siblings"} <= set(r.shortage["cohort"])
    # aggregates only: no coordinates anywhere
    for frame in (r.district, r.areas, r.shortage):
        assert not any("easting" in c or "northing" in c for c in frame.columns)


def test_shortage_structure_is_matching_independent(layout):
    demand, supply = layout
    m = CoverageModel(demand, supply)
    s = m.matching.shortage()
    assert s.at_risk.sum() >= s.gap
    assert np.all(m.matching.assigned[~s.at_risk] >= 0)  # everyone not at risk is placed
    assert s.share.sum() == pytest.approx(s.gap)
    # a different maximum matching (from the greedy start, then augmented) has the same
    # shortage structure
    other = Matching(m.adjacency, m._cap, assigned=greedy_assignment(m.adjacency, m._cap))
    o = other.shortage()
    assert o.gap == s.gap
    assert np.array_equal(o.at_risk, s.at_risk)
    assert np.array_equal(o.deficiency, s.deficiency)
    assert np.array_equal(o.component_children, s.component_children)


def test_what_if_edits_equal_a_full_recompute(layout):
    demand, supply = layout
    m = CoverageModel(demand, supply)
    gap0 = m.gap
    west = (E0 + 15_000, N0 + 20_000)
    near = m.carers_near(easting_m=west[0], northing_m=west[1])
    anything = cats("0-4;5-10;11-15;16+;disability;siblings")
    k1 = m.add_carer(
        easting_m=west[0], northing_m=west[1], places=3, categories=anything, sector="S3-5"
    )
    assert m.gap < gap0
    assert m.carers_near(easting_m=west[0], northing_m=west[1]) == near + 1  # R-tree updated
    k2 = m.add_carer(
        easting_m=E0 + 30_000,
        northing_m=N0 + 45_000,
        places=2,
        categories=cats("11-15;16+;disability;siblings"),
        district_code="D2",
    )
    m.remove_carer(5)
    m.remove_carer(k1)
    k3 = m.move_carer(k2, easting_m=E0 + 16_000, northing_m=N0 + 19_000, district_code="D1")
    m.remove_carer(int(np.flatnonzero(m.matching.load > 0)[0]))  # a carer with children
    assert k3 == k2 + 1 and not m._active[k2]
    fresh = CoverageModel(demand, m.supply())
    assert_same_result(m, fresh)
    with pytest.raises(KeyError):
        m.remove_carer(k1)


def test_what_if_on_vacant_places_equals_recompute(layout):
    demand, supply = layout
    m = CoverageModel(demand, supply, places_basis="vacant")
    m.add_carer(
        easting_m=E0 + 20_000, northing_m=N0 + 30_000, places=2, vacant=1, categories=ALL_AGES
    )
    m.remove_carer(0)
    assert_same_result(m, CoverageModel(demand, m.supply(), places_basis="vacant"))


def test_kent_demo_dataset_end_to_end(tmp_path):
    synthetic = pytest.importorskip("geo.demo")
    from geo.measures import analyse
    from geo.ssda903 import read_placements

    demo = synthetic.demo_dataset()
    synthetic.write_demo(tmp_path, demo)
    kent = load_authority()
    data = read_placements(
        tmp_path / "episodes.csv", header=tmp_path / "header.csv", uasc=tmp_path / "uasc.csv"
    )
    analysis = analyse(data, kent, as_at=demo.as_at)
    demand, counts = demand_from_analysis(analysis)
    supply = supply_from_register(read_carers(tmp_path / "carers.csv", as_at=demo.as_at))
    assert counts.located + counts.not_located == counts.cohort > 1000
    m = CoverageModel(demand, supply, authority=kent)
    r = m.result()
    assert r.district["district_code"].tolist() == [*kent.district_codes, "OUTSIDE", kent.code]
    assert r.district.iloc[-1]["district_name"] == "Kent total"
    assert r.district.iloc[:-1]["gap"].sum() == r.gap
    assert m.greedy_gap() >= r.gap
    assert {"West Kent", "North Kent", "East Kent"} & set(r.shortage["cohort"])


def test_add_then_remove_restores_the_figures_and_forgets_the_edges(layout):
    demand, supply = layout
    m = CoverageModel(demand, supply)
    before = m.result()
    anything = cats("0-4;5-10;11-15;16+;disability;siblings")
    for i in range(5):
        key = m.add_carer(
            easting_m=E0 + 10_000 * i, northing_m=N0 + 20_000, places=2, categories=anything
        )
        m.remove_carer(key)
    assert len(m._extra_child) == 0 and len(m.matching.extra_child) == 0
    after = m.result()
    pd.testing.assert_frame_equal(before.district, after.district)
    pd.testing.assert_frame_equal(before.areas, after.areas)
    pd.testing.assert_frame_equal(before.shortage, after.shortage)
