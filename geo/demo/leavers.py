"""Stage 2b: the children who left care during the history window, drawn from a stated process.

The children in care at the as-at date are fixed by the calibration (:mod:`geo.demo.children`);
the history before it comes from one entry-and-stay process, so the stock, entries and exits of
every earlier quarter are what that process gives, with no seams:

* **entries** per home district (one area for the national demo) arrive at a rate that changes
  by the recipe's ``entry_trend_pct_per_year`` (a district code, its area group or ``default``),
  e.g. 8 % more a year in Swale: the rate at time *t* is λ × (1 + g)^(years from the as-at date);
* **age at entry** is drawn from the ages at which the current children entered care;
* **length of stay** is a mixture of long and short stays (the recipe's ``long_stay_share``,
  ``mean_long_stay_years`` and ``mean_short_stay_years`` describe the children in care, so the
  entrants' mixture is re-weighted by stay length), cut at the 18th birthday;
* UASC arrive separately (``uasc_arrival_trend_pct_per_year``) at the current UASC's arrival
  ages and stay until 18.

λ of each district is set so that the children the process would still have in care at the as-at
date match the district's current children (in expectation); those entrants are then dropped, the
current cohort standing in for them, and the others who left care on or after the start of the
history window are the leavers. Stream ``rng_leavers``.
"""

from __future__ import annotations

import numpy as np

from geo.demo.children import Children, group_weight, homes
from geo.demo.sampling import DAY, categorical, minus_years
from geo.demo.synthetic import DemoGenerator

YEAR_DAYS = 365.25
BURN_IN_YEARS = 14  # entries this long before the window still have children in care in it
PILOT = 20_000  # draws that estimate the share of entrants still in care at the as-at date
# Reason episode ceased (REC) for children who left care before 18: share and age range (years).
LEAVING_BEFORE_18 = {
    "E4A": (26, 0.0, 17.99),
    "E13": (5, 16.0, 17.99),
    "E11": (12, 1.0, 6.0),
    "E45": (11, 0.5, 12.0),
    "E41": (3, 1.0, 14.0),
    "E15": (8, 0.0, 17.0),
    "E6": (1, 15.0, 17.99),
}
LEAVING_AT_18 = {"E17": 9, "E7": 14, "E8": 9, "E5": 2}
LEAVING_UASC = {"E7": 50, "E17": 20, "E8": 30}


def entry_trend(gen: DemoGenerator, key: str, group: str) -> float:
    """Annual change of entries (a share, 0.08 = 8 % more a year) for a district ``key`` in
    area ``group``: the recipe's value for the district, else its group, else ``default``."""
    trend = gen.cfg.get("entry_trend_pct_per_year", {})
    pct = trend.get(key, trend.get(group, trend.get("default", 0.0)))
    return float(pct) / 100.0


def leavers(gen: DemoGenerator, ch: Children) -> Children:
    """Children who left care between the start of the history window and the as-at date."""
    rng = gen.rng_leavers
    h = gen.recipe["history"]
    n = ch.n_current
    entry_days = np.maximum((ch.care_start[:n] - ch.dob[:n]).astype(int), 0)
    uasc_now, sb = ch.uasc[:n], ch.short_break[:n]
    headline = ~uasc_now & ~sb
    t0 = gen.window_start - int(BURN_IN_YEARS * YEAR_DAYS) * DAY
    span = int((gen.as_at - t0).astype(int))

    share = float(h["long_stay_share"])
    m_long, m_short = float(h["mean_long_stay_years"]), float(h["mean_short_stay_years"])
    # Children in care are long stayers in proportion to rate × mean stay; entrants by rate.
    p_long = (share / m_long) / (share / m_long + (1 - share) / m_short)

    ages_all = entry_days[headline]
    stretch = _stretch(rng, p_long, m_long, m_short, ages_all)

    def stays(k: int) -> np.ndarray:
        long = rng.random(k) < p_long
        years = np.where(long, rng.exponential(m_long, k), rng.exponential(m_short, k))
        return np.maximum((stretch * years * YEAR_DAYS).astype(int), 1)

    parts: list[dict[str, np.ndarray]] = []
    if gen.scale == "kent":
        district = gen.homes.district
        current = district[ch.home[:n]]
        keys = sorted(set(district.tolist()))
        by_key = {k: np.flatnonzero(district == k) for k in keys}
    else:
        current = np.full(n, "", dtype=object)
        keys = [""]
    for key in keys:
        target = int((headline & (current == key)).sum())
        if target == 0:
            continue
        group = gen.group_of_district.get(key, "") if gen.scale == "kent" else ""
        g = entry_trend(gen, key, group)
        ages = ages_all

        def draw(k: int, g: float = g, ages: np.ndarray = ages) -> dict[str, np.ndarray]:
            start = t0 + _times(rng, k, span, g) * DAY
            dob = start - rng.choice(ages, k) * DAY
            end = np.minimum(start + stays(k) * DAY, _birthday_18(dob))
            return {"start": start, "dob": dob, "end": end}

        pilot = draw(PILOT)
        still = float(np.mean(pilot["end"] > gen.as_at))
        m = int(round(target / max(still, 1e-3)))
        one = draw(m)
        if gen.scale == "kent":
            pool = by_key[key]
            one["home"] = pool[rng.integers(0, len(pool), m)]
        else:
            one["home"] = homes(gen, rng, m)
        one["uasc"] = np.zeros(m, bool)
        parts.append(one)

    n_uasc = int(uasc_now.sum())
    if n_uasc:
        g = float(gen.cfg.get("uasc_arrival_trend_pct_per_year", 0.0)) / 100.0
        ages = entry_days[uasc_now]

        def arrive(k: int) -> dict[str, np.ndarray]:
            start = t0 + _times(rng, k, span, g) * DAY
            dob = start - rng.choice(ages, k) * DAY
            return {"start": start, "dob": dob, "end": _birthday_18(dob)}

        pilot = arrive(PILOT)
        still = float(np.mean(pilot["end"] > gen.as_at))
        m = int(round(n_uasc / max(still, 1e-3)))
        one = arrive(m)
        one["home"] = homes(gen, rng, m)
        one["uasc"] = np.ones(m, bool)
        parts.append(one)

    cat = {f: np.concatenate([p[f] for p in parts]) for f in parts[0]}
    keep = (cat["end"] <= gen.as_at - DAY) & (cat["end"] >= gen.window_start)
    cat = {f: v[keep] for f, v in cat.items()}
    start, dob, end, uasc = cat["start"], cat["dob"], cat["end"], cat["uasc"]
    k = len(start)
    order = rng.permutation(k)  # no block of one district or of UASC in the files
    start, dob, end, uasc, home = (
        start[order],
        dob[order],
        end[order],
        uasc[order],
        cat["home"][order],
    )
    start = np.minimum(np.maximum(start, dob + DAY), end - DAY)
    at_18 = end == _birthday_18(dob)
    age_left = (end - dob).astype(int) / YEAR_DAYS
    reason = np.empty(k, dtype=object)
    reason[at_18] = categorical(rng, LEAVING_AT_18, int(at_18.sum()))
    before = ~at_18
    reason[before] = _reason_by_age(rng, age_left[before])
    reason[uasc] = categorical(rng, LEAVING_UASC, int(uasc.sum()))
    disabled = (reason == "E5") | np.where(uasc, rng.random(k) < 0.02, rng.random(k) < 0.15)
    male = np.where(uasc, rng.random(k) < 0.93, rng.random(k) < 0.55)
    gen.facts["leavers"] = k
    return Children(
        n_current=0,
        uasc=uasc,
        male=male,
        disabled=disabled,
        dob=dob.astype("datetime64[D]"),
        home=home,
        group_w=group_weight(gen, home),
        care_start=start.astype("datetime64[D]"),
        care_end=end.astype("datetime64[D]"),
        reason=reason,
        short_break=np.zeros(k, bool),
    )


def _stretch(
    rng: np.random.Generator, p_long: float, m_long: float, m_short: float, ages: np.ndarray
) -> float:
    """The factor on stay lengths that keeps the mean time in care of entrants, once stays are
    cut at the 18th birthday, at the mixture's mean. The children in care now were drawn with
    the uncut mixture, so without it the process would need more entrants, each staying less,
    than the current children show (a seam of too few entries and too many exits at the as-at
    date)."""
    k = PILOT
    long = rng.random(k) < p_long
    years = np.where(long, rng.exponential(m_long, k), rng.exponential(m_short, k))
    room = np.maximum(18.0 - rng.choice(ages, k) / YEAR_DAYS, 0.0)
    target = p_long * m_long + (1 - p_long) * m_short
    lo, hi = 1.0, 4.0
    for _ in range(30):
        mid = (lo + hi) / 2
        if np.minimum(mid * years, room).mean() < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _times(rng: np.random.Generator, k: int, span: int, g: float) -> np.ndarray:
    """``k`` days in [0, span) with density ∝ (1 + g)^(days / 365.25): inverse-CDF sampling."""
    u = rng.random(k)
    r = np.log1p(g) / YEAR_DAYS
    if abs(r) < 1e-12:
        return (u * span).astype(int)
    x = np.log1p(u * np.expm1(r * span)) / r
    return np.minimum(x.astype(int), span - 1)


def _birthday_18(dob: np.ndarray) -> np.ndarray:
    return minus_years(dob, np.full(len(dob), -18)).astype("datetime64[D]")


def _reason_by_age(rng: np.random.Generator, age: np.ndarray) -> np.ndarray:
    """A reason for leaving care before 18 whose age range holds ``age`` (years)."""
    codes = list(LEAVING_BEFORE_18)
    w = np.array(
        [
            np.where((age >= lo) & (age <= hi), share, 0.0)
            for share, lo, hi in LEAVING_BEFORE_18.values()
        ]
    ).T  # (children, reasons); E4A covers every age, so each row has weight
    cum = np.cumsum(w, axis=1)
    pick = (cum < rng.random(len(age))[:, None] * cum[:, -1:]).sum(axis=1)
    return np.array(codes, dtype=object)[np.minimum(pick, len(codes) - 1)]
