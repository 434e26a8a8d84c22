"""Stage 2: the children in care at the as-at date and their placements (the children who left
care come from :mod:`geo.demo.leavers`).

How the calibration is kept exact rather than approximately random: quotas (sex, age, disability,
UASC, placement type) are allocated by weighted sampling without replacement, and the children
placed more than 20 miles from home are chosen the same way (their number fixed by the target,
their odds raised for disabled children, for West Kent and for residential and IFA placements).
Each placement is then realised at a real postcode on the right side of 20 DfE miles: foster
children take a vacant place of a carer in the generated register (:mod:`geo.demo.foster`);
everyone else gets a postcode drawn around home (near) or in Kent, London, Sussex, Essex, Surrey
or further afield (far).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from geo.demo.carers import Carers
from geo.demo.foster import assign_foster
from geo.demo.pools import NEAR_MEAN_MILES, Pool, Where, dfe_miles, snap
from geo.demo.sampling import DAY, age_at, categorical, minus_years, quota, take
from geo.demo.synthetic import DemoGenerator
from geo.ssda903 import PlacementKind, age_band_index

# The generator's placement kinds: the commissioning view of geo.ssda903 (PlacementKind) for
# foster care, plus "residential", "short_break" and "other".
FOSTER_IN_HOUSE = PlacementKind.IN_HOUSE_FOSTER.value
FOSTER_IFA = PlacementKind.IFA_FOSTER.value
ADOPTION_CODES = ("A3", "A4", "A5", "A6")


@dataclass
class Children:
    """Per-child facts (current children first, then children who left care)."""

    n_current: int
    uasc: np.ndarray
    male: np.ndarray
    disabled: np.ndarray
    dob: np.ndarray  # datetime64[D]
    home: np.ndarray  # index into the home pool
    group_w: np.ndarray  # far-odds multiplier of the home area
    care_start: np.ndarray
    care_end: np.ndarray  # NaT while in care
    reason: np.ndarray  # REC of the last episode ('' while in care)
    short_break: np.ndarray


def current_children(gen: DemoGenerator) -> Children:
    """The children in care at the as-at date: UASC, age, sex and disability quotas, dates of
    birth, homes and time in care (stream ``rng_children``)."""
    rng = gen.rng_children
    cfg = gen.cfg
    n = int(cfg["children"])
    n_uasc = round(n * float(cfg["uasc_pct"]) / 100)
    uasc = np.arange(n) < n_uasc
    ages = np.empty(n, dtype=int)
    ages[:n_uasc] = _ages(rng, gen.recipe["age"]["uasc"], n_uasc)
    n_other = n - n_uasc
    n10 = round(n * float(cfg["aged_10_plus_pct"]) / 100) - int((ages[:n_uasc] >= 10).sum())
    other = {int(k): float(v) for k, v in gen.recipe["age"]["other"].items()}
    young = {str(k): v for k, v in other.items() if k < 10}
    old = {str(k): v for k, v in other.items() if k >= 10}
    ages_other = np.concatenate([_ages(rng, young, n_other - n10), _ages(rng, old, n10)])
    ages[n_uasc:] = rng.permutation(ages_other)

    male = np.zeros(n, bool)
    n_male = round(n * float(cfg["male_pct"]) / 100)
    n_male_uasc = round(n_uasc * float(cfg["uasc_male_pct"]) / 100)
    male[take(rng, uasc.astype(float), n_male_uasc)] = True
    male[take(rng, (~uasc).astype(float), n_male - n_male_uasc)] = True

    disabled = np.zeros(n, bool)
    n_dis = round(n * float(cfg["disabled_pct"]) / 100)
    n_dis_uasc = round(n_uasc * float(cfg["uasc_disabled_pct"]) / 100)
    disabled[take(rng, uasc.astype(float), n_dis_uasc)] = True
    w_dis = (~uasc) * np.where(male, 1.5, 1.0) * np.where(ages >= 5, 1.5, 0.6)
    disabled[take(rng, w_dis.astype(float), n_dis - n_dis_uasc)] = True

    last_birthday = minus_years(np.full(n, gen.as_at), ages)
    dob = last_birthday - rng.integers(0, 365, n) * DAY
    home = homes(gen, rng, n)
    group_w = group_weight(gen, home)

    # Time in care: UASC arrived at 13.5+; others a mix of long and short stays.
    h = gen.recipe["history"]
    age_days = (gen.as_at - dob).astype(int)
    long_stay = rng.random(n) < float(h["long_stay_share"])
    years = np.where(
        long_stay,
        rng.exponential(float(h["mean_long_stay_years"]), n),
        rng.exponential(float(h["mean_short_stay_years"]), n),
    )
    uasc_years = rng.uniform(0.05, 1.0, n) * np.clip(ages - 13.5, 0.1, 2.5)
    years = np.where(uasc, uasc_years, years)
    days = np.clip((years * 365.25).astype(int), 1, np.maximum(age_days - 1, 1))
    care_start = gen.as_at - days * DAY
    return Children(
        n_current=n,
        uasc=uasc,
        male=male,
        disabled=disabled,
        dob=dob,
        home=home,
        group_w=group_w,
        care_start=care_start,
        care_end=np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"),
        reason=np.full(n, "", dtype=object),
        short_break=np.zeros(n, bool),
    )


def _ages(rng: np.random.Generator, shares: Mapping[str, float], k: int) -> np.ndarray:
    counts = quota(shares, k)
    return rng.permutation(np.repeat([int(a) for a in counts], list(counts.values())))


def homes(gen: DemoGenerator, rng: np.random.Generator, n: int) -> np.ndarray:
    """Home postcodes: district weight = child poverty × postcode count (uniform within)."""
    if gen.scale != "kent":
        return rng.integers(0, len(gen.homes), n)
    poverty = gen.cfg["district_child_poverty_pct"]
    w = np.array([float(poverty[d]) for d in gen.homes.district])
    return rng.choice(len(gen.homes), size=n, p=w / w.sum())


def group_weight(gen: DemoGenerator, home: np.ndarray) -> np.ndarray:
    weights = gen.cfg.get("far_weight_by_group", {})
    g = gen.home_group[home]
    return np.array([float(weights.get(x, 1.0)) for x in g])


# -- placement types -----------------------------------------------------------------------
def allocate_types(gen: DemoGenerator, ch: Children) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kind (in_house_foster, ifa_foster, residential, short_break, other), PLACE and
    PLACE_PROVIDER of each current child's episode, hitting the recipe counts exactly."""
    rng = gen.rng_types
    cfg = gen.cfg
    n = ch.n_current
    age = age_at(ch.dob[:n], gen.as_at)
    uasc, dis, male = ch.uasc[:n], ch.disabled[:n], ch.male[:n]
    free = np.ones(n, bool)
    kind = np.full(n, "", dtype=object)
    place = np.full(n, "", dtype=object)

    def give(code: str, k_kind: str, weights: np.ndarray, k: int) -> None:
        w = np.where(free, weights, 0.0)
        idx = take(rng, w, k)
        idx = idx[free[idx]]
        free[idx] = False
        kind[idx] = k_kind
        place[idx] = code

    one = np.ones(n)
    p = cfg["placements"]
    give("K2", "short_break", (dis & ~uasc & (age >= 5)) * one, int(p["short_break"]))
    other = cfg["other_codes"]
    res = cfg["residential_codes"]
    specs: list[tuple[str, str, np.ndarray, int]] = [
        (
            "A6",
            "other",
            (~uasc & (age <= 4)) * np.where(age <= 1, 3.0, 1.0),
            other.get("A6", 0),
        ),
        ("A5", "other", (~uasc & (age <= 4)) * 1.0, other.get("A5", 0)),
        ("R3", "other", ((age <= 1) * 2.0 + (~male & (age >= 15)) * 1.0), other.get("R3", 0)),
        ("R5", "other", (age >= 15) * np.where(male, 4.0, 1.0), other.get("R5", 0)),
        ("H5", "other", (age >= 16) * np.where(uasc, 4.0, 1.0), other.get("H5", 0)),
        ("P3", "other", (~uasc & (age >= 16)) * 1.0, other.get("P3", 0)),
        ("K1", "residential", (age >= 12) * np.where(uasc, 0.1, 1.0), res.get("K1", 0)),
        ("R1", "residential", (age >= 8) * np.where(dis, 4.0, 0.3), res.get("R1", 0)),
        (
            "S1",
            "residential",
            ((age >= 8) & (age <= 17)) * np.where(dis, 4.0, 0.5),
            res.get("S1", 0),
        ),
        (
            "K2",
            "residential",
            np.where(age >= 11, 1.0, np.where(age >= 8, 0.15, 0.0))
            * np.where(dis, 2.5, 1.0)
            * np.where(uasc, 0.3, 1.0),
            res.get("K2", 0),
        ),
        ("R2", "other", np.where(dis, 3.0, 1.0), other.get("R2", 0)),
        ("Z1", "other", (age >= 10) * 1.0 + 0.1, other.get("Z1", 0)),
        ("P1", "other", (~uasc) * np.where(age < 10, 1.3, 1.0), other.get("P1", 0)),
    ]
    for code, k_kind, w, k in specs:
        give(code, k_kind, np.asarray(w, dtype=float), int(k))
    w_ifa = np.where(age >= 10, 1.5, 1.0) * np.where(dis, 1.3, 1.0) * np.where(uasc, 1.2, 1.0)
    give("", FOSTER_IFA, w_ifa, int(p["ifa_foster"]))
    kind[free] = FOSTER_IN_HOUSE
    free[:] = False

    foster_in = kind == FOSTER_IN_HOUSE
    foster_ifa = kind == FOSTER_IFA
    place[foster_in] = categorical(
        rng, {"U1": 5, "U2": 1, "U3": 6, "U4": 40, "U5": 3, "U6": 45}, int(foster_in.sum())
    )
    place[foster_ifa] = categorical(rng, {"U4": 45, "U5": 2, "U6": 53}, int(foster_ifa.sum()))
    provider = providers(rng, kind, place)
    ch.short_break[:n] = kind == "short_break"
    gen.facts["current_by_kind"] = {
        k: int((kind == k).sum())
        for k in (FOSTER_IN_HOUSE, FOSTER_IFA, "residential", "short_break", "other")
    }
    return kind, place, provider


def providers(rng: np.random.Generator, kind: np.ndarray, place: np.ndarray) -> np.ndarray:
    """PLACE_PROVIDER of each placement: by placement code, then fixed for P1, short breaks and
    foster care (in-house PR1, IFA PR4/PR5)."""
    out = np.full(len(kind), "PR4", dtype=object)
    shares = {
        "K2": {"PR4": 80, "PR1": 10, "PR5": 5, "PR2": 5},
        "K1": {"PR2": 60, "PR4": 40},
        "R1": {"PR4": 85, "PR5": 15},
        "S1": {"PR4": 60, "PR5": 40},
        "H5": {"PR4": 60, "PR5": 20, "PR1": 20},
        "A5": {"PR1": 70, "PR2": 20, "PR5": 10},
        "A6": {"PR1": 70, "PR2": 20, "PR5": 10},
        "R3": {"PR4": 60, "PR5": 40},
        "Z1": {"PR4": 70, "PR1": 30},
        "P3": {"PR4": 100},
        "R5": {"PR3": 100},
        "R2": {"PR3": 100},
    }
    for code, s in shares.items():
        m = (place == code) & (kind != "short_break")
        out[m] = categorical(rng, s, int(m.sum()))
    out[place == "P1"] = "PR0"
    out[kind == "short_break"] = "PR1"
    out[kind == FOSTER_IN_HOUSE] = "PR1"
    m = kind == FOSTER_IFA
    out[m] = categorical(rng, {"PR4": 75, "PR5": 25}, int(m.sum()))
    return out


def _far_kind(kind: np.ndarray, place: np.ndarray) -> np.ndarray:
    """Key into ``far_weight_by_kind`` for each placement."""
    out = np.full(len(kind), "other", dtype=object)
    out[kind == FOSTER_IN_HOUSE] = "in_house_foster"
    out[kind == FOSTER_IFA] = "ifa_foster"
    out[kind == "residential"] = "residential"
    out[place == "P1"] = "P1"
    out[place == "H5"] = "H5"
    out[np.isin(place, ADOPTION_CODES)] = "adoption"
    return out


def far_weights(
    gen: DemoGenerator,
    kind: np.ndarray,
    place: np.ndarray,
    disabled: np.ndarray,
    group_w: np.ndarray,
) -> np.ndarray:
    """Relative odds of a placement being more than 20 miles from home: by kind (recipe
    ``far_weight_by_kind``), disability (``far_weight_disabled``) and home area (``group_w``)."""
    by_kind = gen.recipe["far_weight_by_kind"]
    fk = _far_kind(kind, place)
    w = np.array([float(by_kind[k]) for k in fk])
    return w * np.where(disabled, float(gen.recipe["far_weight_disabled"]), 1.0) * group_w


# -- near / far ----------------------------------------------------------------------------
def far_flags(gen: DemoGenerator, ch: Children, kind: np.ndarray, place: np.ndarray) -> np.ndarray:
    """Who is placed more than 20 miles from home: exactly the target share of the headline
    cohort, chosen with odds by kind, disability and home area."""
    rng = gen.rng_far
    n = ch.n_current
    uasc, sb = ch.uasc[:n], ch.short_break[:n]
    included = ~uasc & ~sb
    w = far_weights(gen, kind, place, ch.disabled[:n], ch.group_w[:n])
    k = round(int(included.sum()) * (100 - float(gen.cfg["pct_within_20_included"])) / 100)
    far = np.zeros(n, bool)
    far[take(rng, np.where(included, w, 0.0), k)] = True
    far[uasc] = rng.random(int(uasc.sum())) < float(gen.recipe["far_pct_uasc"]) / 100
    far[sb] = rng.random(int(sb.sum())) < float(gen.recipe["far_pct_short_break"]) / 100
    return far


# -- where each current child is placed ----------------------------------------------------
def place_current(
    gen: DemoGenerator,
    carers: Carers,
    ch: Children,
    kind: np.ndarray,
    place: np.ndarray,
    far: np.ndarray,
) -> tuple[Where, np.ndarray, np.ndarray]:
    """Placement postcodes of the current episodes, the carer of each foster child (-1 for
    others) and who ended up more than 20 miles away."""
    rng = gen.rng_place
    n = ch.n_current
    he, hn = gen.homes.e[ch.home[:n]], gen.homes.n[ch.home[:n]]
    age = age_at(ch.dob[:n], gen.as_at)
    carer = np.full(n, -1)
    got_far = far.copy()
    vacancy = np.where(carers.status == "approved", carers.approved, 0)
    for in_house, k in ((True, FOSTER_IN_HOUSE), (False, FOSTER_IFA)):
        kids = np.flatnonzero(kind == k)
        which = np.flatnonzero(carers.in_house == in_house)
        assigned, achieved_far = assign_foster(
            rng,
            he[kids],
            hn[kids],
            far[kids],
            age_band_index(age[kids]),
            ch.disabled[:n][kids],
            carers.e[which],
            carers.n[which],
            carers.cats[which],
            vacancy[which],
        )
        carer[kids] = which[assigned]
        got_far[kids] = achieved_far
    # A near-flagged foster child who found no vacant place within 20 miles went further:
    # bring as many far-flagged non-foster children of the same area near instead, so the
    # cohort keeps its target and the area keeps its character.
    foster = carer >= 0
    included = ~ch.uasc[:n] & ~ch.short_break[:n]
    group = gen.home_group[ch.home[:n]]
    moved = included & got_far & ~far
    for g in np.unique(group[moved]):
        d = int((group[moved] == g).sum())
        cand = np.flatnonzero(included & got_far & ~foster & (group == g))
        if len(cand) < d:
            cand = np.flatnonzero(included & got_far & ~foster)
        got_far[rng.permutation(cand)[:d]] = False
    gen.facts["foster_near_shortfall"] = int(moved.sum())
    where = Where.empty(n)
    where.put(foster, Where.of(carers, carer[foster]))
    other = ~foster
    where.put(
        other,
        points(gen, rng, he[other], hn[other], got_far[other], place[other]),
    )
    return where, carer, got_far


def points(
    gen: DemoGenerator,
    rng: np.random.Generator,
    he: np.ndarray,
    hn: np.ndarray,
    far: np.ndarray,
    place: np.ndarray,
) -> Where:
    """Non-foster placement postcodes: near (≤ 20 DfE miles: children's homes, hostels and
    parents close to home; P1 often the home postcode itself) or far (> 20 miles)."""
    out = Where.empty(len(he))
    near = ~far
    if near.any():
        p = place[near]
        scale = np.where(p == "P1", 2.0, np.where(p == "H5", 5.0, NEAR_MEAN_MILES))
        idx = snap(rng, he[near], hn[near], gen.near_pool, scale, within=True)
        out.put(near, Where.of(gen.near_pool, idx))
    at_home = near & (place == "P1") & (rng.random(len(he)) < 0.6)
    if at_home.any():
        _, idx = gen.near_pool.tree.query(np.column_stack([he[at_home], hn[at_home]]))
        out.put(at_home, Where.of(gen.near_pool, idx))
    if far.any():
        out.put(far, _far_points(gen, rng, he[far], hn[far]))
    return out


def _far_points(
    gen: DemoGenerator, rng: np.random.Generator, he: np.ndarray, hn: np.ndarray
) -> Where:
    """Postcodes more than 20 DfE miles from home: elsewhere in Kent and Medway, London,
    Sussex, Essex, Surrey or further afield (national scale: anywhere in England)."""
    k = len(he)
    out = Where.empty(k)
    if gen.scale != "kent":
        idx = snap(rng, he, hn, gen.far_pool, np.full(k, 25.0), within=False, offset_miles=20.5)
        out.put(np.ones(k, bool), _far_fallback(gen, rng, he, hn, gen.far_pool, idx))
        return out
    region = categorical(rng, gen.cfg["far_regions_pct"], k)
    for name in sorted(set(region.tolist())):
        m = region == name
        pool = gen.regions[name]
        if name == "kent_medway":
            idx = snap(
                rng,
                he[m],
                hn[m],
                pool,
                np.full(int(m.sum()), 10.0),
                within=False,
                offset_miles=20.5,
            )
        else:
            idx = np.full(int(m.sum()), -1)
        out.put(m, _far_fallback(gen, rng, he[m], hn[m], pool, idx))
    return out


def _far_fallback(
    gen: DemoGenerator,
    rng: np.random.Generator,
    he: np.ndarray,
    hn: np.ndarray,
    pool: Pool,
    idx: np.ndarray,
) -> Where:
    """Fill the -1s of ``idx`` with uniform pool postcodes > 20 miles away; the afield pool
    serves those the region cannot (a region wholly within 20 miles of home)."""
    idx = idx.copy()
    todo = np.flatnonzero(idx < 0)
    for _ in range(30):
        if not len(todo):
            break
        j = rng.integers(0, len(pool), len(todo))
        ok = dfe_miles(he[todo], hn[todo], pool.e[j], pool.n[j]) > 20.0
        idx[todo[ok]] = j[ok]
        todo = todo[~ok]
    out = Where.of(pool, np.maximum(idx, 0))
    if len(todo):
        afield = gen.regions["afield"]
        if pool is afield:  # pragma: no cover - England is more than 20 miles wide
            raise RuntimeError("no postcode more than 20 miles from home")
        sub = np.zeros(len(idx), bool)
        sub[todo] = True
        out.put(sub, _far_fallback(gen, rng, he[todo], hn[todo], afield, np.full(len(todo), -1)))
    return out


def concat_children(a: Children, b: Children) -> Children:
    """``a`` (the current children) followed by ``b`` (the leavers)."""
    return Children(
        n_current=a.n_current,
        **{
            f: np.concatenate([getattr(a, f), getattr(b, f)])
            for f in (
                "uasc",
                "male",
                "disabled",
                "dob",
                "home",
                "group_w",
                "care_start",
                "care_end",
                "reason",
                "short_break",
            )
        },
    )
