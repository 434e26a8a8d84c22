"""Demand forecast: a stock-flow (Markov) model of children looked after by home district
(issue 19).

States are age band (:data:`geo.ssda903.AGE_BAND_LABELS`) × placement kind
(:class:`geo.ssda903.PlacementKind`), per table area of the authority (:func:`area_of`: its
districts, plus ``OUTSIDE`` for children whose home is outside or not known), plus "not looked
after". The model is estimated from quarterly censuses (:func:`geo.ssda903.take_censuses`, the
one census rule, every date in one pass) of the headline cohort (no UASC, no short breaks)
taken every three months back from the as-at date:

* **transitions** — of the children in state *s* at one census, the share in each state (and
  "not looked after") at the next. Ageing is part of it: the band is taken from each child's age
  at each census, so children cross bands at the rate they did in the history, and 16+ children
  leave at 18 as they did. A district's rates are its own counts shrunk towards the authority's
  (``shrinkage`` pseudo-children per state), so a small district is not driven by a handful of
  moves. A child whose home district changes while in care stays in the origin district's chain.
* **entries** — children in a state at a census who were not looked after at the previous one
  (first entries and re-entries, and children joining the headline cohort), per district and
  state, as a Poisson count per quarter. Children who enter and leave between two censuses are
  not seen, as in any quarterly stock-flow model.

The projection is quarter by quarter. ``children`` is the expected value (the rates applied to
the expected stock, so it conserves children exactly: stock + entries − exits). The 80 % interval
is the 10th-90th percentile of ``draws`` simulated paths (fixed ``seed``): each draw first takes
rates from their posterior (a parametric bootstrap: Dirichlet on each state's transition counts,
Gamma on each entry count), then moves children by multinomial draws and adds Poisson entries
each quarter, so it carries both the uncertainty of the rates and the chance in who moves.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
import pandas as pd

from geo.errors import InputError
from geo.measures.compliance import area_of
from geo.spatial import postcodes as pc
from geo.spatial.areas import area_names, area_order
from geo.spatial.authority import OUTSIDE, Authority
from geo.ssda903 import (
    AGE_BAND_LABELS,
    Cohort,
    PlacementData,
    PlacementKind,
    age_band_index,
    take_censuses,
)

KINDS: tuple[str, ...] = tuple(k.value for k in PlacementKind)
FOSTER_KINDS = (PlacementKind.IN_HOUSE_FOSTER.value, PlacementKind.IFA_FOSTER.value)
N_BANDS = len(AGE_BAND_LABELS)
N_KINDS = len(KINDS)
N_STATES = N_BANDS * N_KINDS  # state index = band * N_KINDS + kind
EXIT = N_STATES  # destination "not looked after"
NOT_LOOKED_AFTER = -1
QUARTER_MONTHS = 3
MIN_HISTORY_QUARTERS = 4  # a year: fewer cannot show a year's seasons of entries and exits
INTERVAL = (0.10, 0.90)  # the 80 % interval

FORECAST_COLUMNS = [
    "quarter_end",
    "district_code",
    "district_name",
    "children",
    "lower_80",
    "upper_80",
    "entries",
    "exits",
]
DETAIL_COLUMNS = [
    "quarter_end",
    "district_code",
    "district_name",
    "age_band",
    "placement_kind",
    "children",
    "lower_80",
    "upper_80",
]


def state_labels() -> list[tuple[str, str]]:
    """(age band, placement kind) of each state index."""
    return [(band, kind) for band in AGE_BAND_LABELS for kind in KINDS]


def step_dates(as_at: date, steps: range) -> list[date]:
    """``as_at`` moved by 3 months × each of ``steps`` (negative = back). From a calendar quarter
    end these are the calendar quarter ends (31 Dec → 30 Sep, 30 Jun, 31 Mar)."""
    stamp = pd.Timestamp(as_at)
    return [(stamp + pd.DateOffset(months=QUARTER_MONTHS * k)).date() for k in steps]


@dataclass(frozen=True, eq=False)
class StateHistory:
    """Each child's state at each census date.

    ``dates``: census dates, oldest first, 3 months apart, the last the as-at date.
    ``state``: (children, dates) state index, ``NOT_LOOKED_AFTER`` (-1) when not looked after in
    the headline cohort. ``area``: (children, dates) index into ``areas`` (-1 when not looked
    after). ``areas``: table area codes (districts, then ``OUTSIDE``). ``not_modelled``: children
    of the headline cohort at each date left out because their age is not known.
    """

    authority: Authority
    dates: tuple[date, ...]
    areas: tuple[str, ...]
    state: np.ndarray
    area: np.ndarray
    history_start: date
    not_modelled: dict[str, int] = field(default_factory=dict)

    def names(self) -> dict[str, str]:
        return {
            **area_names(self.authority, self.areas),
            OUTSIDE: f"Outside {self.authority.name} or not known",
            self.authority.code: f"{self.authority.name} total",
        }

    def stock(self, t: int) -> np.ndarray:
        """(areas, states) children looked after at ``dates[t]``."""
        out = np.zeros((len(self.areas), N_STATES), np.int64)
        here = self.state[:, t] >= 0
        np.add.at(out, (self.area[here, t], self.state[here, t]), 1)
        return out

    def until(self, t: int) -> StateHistory:
        """The history up to and including ``dates[t]`` (for a backtest)."""
        return replace(
            self,
            dates=self.dates[: t + 1],
            state=self.state[:, : t + 1],
            area=self.area[:, : t + 1],
        )


def history_start(data: PlacementData) -> date | None:
    """The first date the history is complete from: the day before the first recorded end of an
    episode (a return lists every episode open in its year, so its first exits mark its start).
    ``None`` when no episode has an end date."""
    ends = data.episodes["DEC"].dropna()
    return (ends.min() - pd.Timedelta(days=1)).date() if len(ends) else None


def state_history(
    data: PlacementData,
    authority: Authority,
    *,
    as_at: date,
    cohort: Cohort = Cohort.INCLUDED,
) -> StateHistory:
    """Quarterly censuses of ``cohort`` (default the headline cohort) from the start of the
    history to ``as_at``.

    Raises :class:`InputError` when the history cannot give rates: no start dates (``DECOM``),
    no episode end dates (``DEC``, e.g. a one-day snapshot) or under a year before ``as_at``.
    """
    files = ", ".join(sorted(set(data.files.values())))
    where = f" in '{files}'" if files else ""
    if data.episodes["DECOM"].notna().sum() == 0:
        raise InputError(
            f"The placements{where} have no episode start dates (DECOM), so entries into care "
            "cannot be counted. The forecast needs the episode history (the SSDA903 Episodes "
            "table over at least a year)."
        )
    start = history_start(data)
    if start is None or start >= as_at:
        raise InputError(
            f"The placements{where} record no episode ending (DEC) before "
            f"{as_at:%d/%m/%Y}: this looks like a one-day snapshot, from which exits from care "
            "cannot be estimated. The forecast needs the Episodes table over at least a year "
            "before the as-at date (repeat --placements for several years)."
        )
    steps = range(-4 * 200, 1)
    dates = [d for d in step_dates(as_at, steps) if d >= start]
    if len(dates) - 1 < MIN_HISTORY_QUARTERS:
        raise InputError(
            f"The episode history{where} runs from {start:%d/%m/%Y} to {as_at:%d/%m/%Y}, under a "
            "year: too short to estimate entry, exit and transition rates. Give at least a year "
            "of episodes before the as-at date (repeat --placements for several years)."
        )
    ep = data.episodes
    children = pd.Index(ep["CHILD"].astype("string").dropna().unique())
    state = np.full((len(children), len(dates)), NOT_LOOKED_AFTER, np.int64)
    # Every census at once (each episode looked at once), then each home postcode looked up
    # and given its table area once.
    c = take_censuses(data, dates)
    c = c[c["cohort"] == cohort.value]
    band = age_band_index(c["age_years"].astype("Float64").to_numpy(na_value=np.nan))
    t_of = c["census"].to_numpy(np.int64)
    missing = np.bincount(t_of[band < 0], minlength=len(dates))
    no_age = {when.isoformat(): int(missing[t]) for t, when in enumerate(dates)}
    c, band, t_of = c[band >= 0], band[band >= 0], t_of[band >= 0]
    kind = pd.Index(KINDS).get_indexer(pd.Index(c["placement_kind"]))
    post_code, posts = pd.factorize(c["HOME_POST"].astype("string"))
    looked = pc.lookup(pd.Series(posts, dtype="string"))
    frame = pd.DataFrame(
        {
            "HOME_POST": pd.array([*looked.postcode.to_numpy(), pd.NA], dtype="string"),
            "home_district_code": pd.array(
                [*looked.district_code.to_numpy(), pd.NA], dtype="string"
            ),
        }
    )
    post_area = area_of(frame, authority, by="home").to_numpy(dtype=object)  # last: no post
    codes = post_area[np.where(post_code >= 0, post_code, len(posts))]
    row = children.get_indexer(c["CHILD"].astype("string"))
    state[row, t_of] = band * N_KINDS + kind
    areas = (*area_order(authority, [a for a in pd.unique(codes) if a != OUTSIDE]), OUTSIDE)
    index = {a: i for i, a in enumerate(areas)}
    area = np.full_like(state, -1)
    area_index, area_codes = pd.factorize(pd.Series(codes, dtype=object))
    area[row, t_of] = np.array([index[a] for a in area_codes], np.int64)[area_index]
    return StateHistory(
        authority=authority,
        dates=tuple(dates),
        areas=areas,
        state=state,
        area=area,
        history_start=start,
        not_modelled=no_age,
    )


@dataclass(frozen=True, eq=False)
class Rates:
    """Rates estimated over a reference window.

    ``transitions``: (areas, states, states + 1) counts from one census to the next (last column:
    left care); ``pooled``: (states, states + 1) the authority's shares; ``probabilities``:
    (areas, states, states + 1) each district's shares shrunk towards ``pooled``; ``entries``:
    (areas, states) entries counted; ``quarters``: census-to-census steps in the window, so
    ``entries / quarters`` is the mean per quarter.
    """

    window: tuple[date, date]
    quarters: int
    transitions: np.ndarray
    entries: np.ndarray
    pooled: np.ndarray
    probabilities: np.ndarray
    shrinkage: float
    entry_factor: np.ndarray  # (states,) scenario multiplier of entries


def estimate_rates(
    history: StateHistory, *, reference_years: float = 3.0, shrinkage: float = 10.0
) -> Rates:
    """Rates over the ``reference_years`` before the last date of ``history`` (or from the start
    of the history when it is shorter)."""
    last = len(history.dates) - 1
    first = max(0, last - int(round(4 * reference_years)))
    n_areas = len(history.areas)
    trans = np.zeros((n_areas, N_STATES, N_STATES + 1), np.int64)
    entries = np.zeros((n_areas, N_STATES), np.int64)
    for t in range(first, last):
        a, b = history.state[:, t], history.state[:, t + 1]
        stay = a >= 0
        dest = np.where(b[stay] >= 0, b[stay], EXIT)
        np.add.at(trans, (history.area[stay, t], a[stay], dest), 1)
        new = (a < 0) & (b >= 0)
        np.add.at(entries, (history.area[new, t + 1], b[new]), 1)
    pooled_counts = trans.sum(axis=0).astype(float)
    n_pool = pooled_counts.sum(axis=1, keepdims=True)
    # A state nobody was in during the window keeps its children (no evidence to move them).
    pooled = np.where(n_pool > 0, pooled_counts / np.where(n_pool > 0, n_pool, 1), 0.0)
    never = n_pool[:, 0] == 0
    pooled[never, np.flatnonzero(never)] = 1.0
    counts = trans + shrinkage * pooled[None, :, :]
    probs = counts / counts.sum(axis=2, keepdims=True)
    return Rates(
        window=(history.dates[first], history.dates[last]),
        quarters=last - first,
        transitions=trans,
        entries=entries,
        pooled=pooled,
        probabilities=probs,
        shrinkage=shrinkage,
        entry_factor=np.ones(N_STATES),
    )


def with_scenario(
    rates: Rates, *, entry_change_pct: float = 0.0, in_house_shift_pct: float = 0.0
) -> Rates:
    """``rates`` with entries scaled by ``entry_change_pct`` (e.g. 10 = 10 % more) and
    ``in_house_shift_pct`` of the children entering IFA foster care entering in-house foster care
    instead (in the same age band). Raises ``ValueError`` outside -100..100 / 0..100."""
    if not -100.0 <= entry_change_pct <= 1000.0:
        raise ValueError(f"entry change {entry_change_pct} % must be between -100 and 1000")
    if not 0.0 <= in_house_shift_pct <= 100.0:
        raise ValueError(f"in-house shift {in_house_shift_pct} % must be between 0 and 100")
    entries = rates.entries.astype(float).copy()
    ih, ifa = KINDS.index(FOSTER_KINDS[0]), KINDS.index(FOSTER_KINDS[1])
    for band in range(N_BANDS):
        moved = entries[:, band * N_KINDS + ifa] * in_house_shift_pct / 100.0
        entries[:, band * N_KINDS + ifa] -= moved
        entries[:, band * N_KINDS + ih] += moved
    base = rates.entries.sum(axis=0).astype(float)
    factor = np.where(base > 0, entries.sum(axis=0) / np.where(base > 0, base, 1), 1.0)
    factor *= 1.0 + entry_change_pct / 100.0
    return replace(rates, entry_factor=factor)


@dataclass(frozen=True, eq=False)
class Projection:
    """Expected and simulated stock by quarter.

    ``expected``: (quarters + 1, areas, states), row 0 the starting stock; ``entries`` and
    ``exits``: (quarters, areas) expected flows into and out of care in each quarter;
    ``draws``: (draws, quarters + 1, areas, states) simulated stock.
    """

    dates: tuple[date, ...]
    expected: np.ndarray
    entries: np.ndarray
    exits: np.ndarray
    draws: np.ndarray


def project(
    stock: np.ndarray,
    rates: Rates,
    *,
    start: date,
    quarters: int,
    draws: int = 1000,
    seed: int = 0,
) -> Projection:
    """Project ``stock`` (areas, states) ``quarters`` quarters on from ``start``."""
    n_areas = stock.shape[0]
    lam = rates.entries / max(rates.quarters, 1) * rates.entry_factor[None, :]
    p = rates.probabilities
    expected = np.zeros((quarters + 1, n_areas, N_STATES))
    expected[0] = stock
    entries = np.zeros((quarters, n_areas))
    exits = np.zeros((quarters, n_areas))
    for q in range(quarters):
        m = expected[q]
        expected[q + 1] = np.einsum("as,ast->at", m, p[:, :, :N_STATES]) + lam
        exits[q] = np.einsum("as,as->a", m, p[:, :, EXIT])
        entries[q] = lam.sum(axis=1)
    rng = np.random.default_rng(seed)
    # Parametric bootstrap: each draw its own rates (Dirichlet via normalised Gammas; Gamma
    # posterior of each Poisson entry rate), then chance in who moves and who enters.
    alpha = rates.transitions + rates.shrinkage * rates.pooled[None, :, :]
    g = rng.gamma(np.broadcast_to(alpha, (draws, *alpha.shape)))
    total = g.sum(axis=3, keepdims=True)
    pd_ = np.where(total > 0, g / np.where(total > 0, total, 1.0), p[None])
    lam_d = (
        rng.gamma(np.broadcast_to(rates.entries.astype(float), (draws, *rates.entries.shape)))
        / max(rates.quarters, 1)
        * rates.entry_factor[None, None, :]
    )
    sim = np.zeros((draws, quarters + 1, n_areas, N_STATES), np.int64)
    sim[:, 0] = stock
    for q in range(quarters):
        moved = rng.multinomial(sim[:, q], pd_)
        sim[:, q + 1] = moved[..., :N_STATES].sum(axis=2) + rng.poisson(lam_d)
    dates = tuple(step_dates(start, range(0, quarters + 1)))
    return Projection(dates=dates, expected=expected, entries=entries, exits=exits, draws=sim)


def forecast_table(projection: Projection, history: StateHistory) -> pd.DataFrame:
    """One row per quarter end × district (+ ``OUTSIDE`` + the authority total):
    :data:`FORECAST_COLUMNS`. Row ``quarter_end == as_at`` is the census (no interval)."""
    names = history.names()
    codes = [*history.areas, history.authority.code]
    frames = []
    for q, when in enumerate(projection.dates):
        exp = projection.expected[q].sum(axis=1)
        sims = projection.draws[:, q].sum(axis=2)
        exp = np.append(exp, exp.sum())
        sims = np.concatenate([sims, sims.sum(axis=1, keepdims=True)], axis=1)
        lo, hi = np.quantile(sims, INTERVAL, axis=0)
        if q == 0:
            ent = ext = np.full(len(codes), np.nan)
        else:
            ent = np.append(projection.entries[q - 1], projection.entries[q - 1].sum())
            ext = np.append(projection.exits[q - 1], projection.exits[q - 1].sum())
        frames.append(
            pd.DataFrame(
                {
                    "quarter_end": when.isoformat(),
                    "district_code": codes,
                    "district_name": [names.get(c, c) for c in codes],
                    "children": np.round(exp, 1),
                    "lower_80": np.floor(lo).astype(int),
                    "upper_80": np.ceil(hi).astype(int),
                    "entries": np.round(ent, 1),
                    "exits": np.round(ext, 1),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)[FORECAST_COLUMNS]


def detail_table(projection: Projection, history: StateHistory) -> pd.DataFrame:
    """One row per quarter end × district × age band × placement kind: :data:`DETAIL_COLUMNS`."""
    names = history.names()
    labels = state_labels()
    lo, hi = np.quantile(projection.draws, INTERVAL, axis=0)
    grid = np.meshgrid(
        np.arange(len(projection.dates)),
        np.arange(len(history.areas)),
        np.arange(N_STATES),
        indexing="ij",
    )
    q, a, s = (g.ravel() for g in grid)
    return pd.DataFrame(
        {
            "quarter_end": [projection.dates[i].isoformat() for i in q],
            "district_code": [history.areas[i] for i in a],
            "district_name": [names[history.areas[i]] for i in a],
            "age_band": [labels[i][0] for i in s],
            "placement_kind": [labels[i][1] for i in s],
            "children": np.round(projection.expected[q, a, s], 1),
            "lower_80": np.floor(lo[q, a, s]).astype(int),
            "upper_80": np.ceil(hi[q, a, s]).astype(int),
        }
    )[DETAIL_COLUMNS]


@dataclass(frozen=True, eq=False)
class Forecast:
    """Everything ``placemap forecast`` writes about demand, as data."""

    as_at: date
    history: StateHistory
    rates: Rates
    projection: Projection
    districts: pd.DataFrame
    detail: pd.DataFrame


def forecast(
    data: PlacementData,
    authority: Authority,
    *,
    as_at: date,
    years: int = 4,
    reference_years: float = 3.0,
    entry_change_pct: float = 0.0,
    in_house_shift_pct: float = 0.0,
    draws: int = 1000,
    seed: int = 0,
    history: StateHistory | None = None,
) -> Forecast:
    """Forecast the headline cohort by home district ``years`` years on from ``as_at``.

    Raises :class:`InputError` when the history is too short (:func:`state_history`) and
    ``ValueError`` for ``years`` < 1 or a scenario out of range.
    """
    if years < 1:
        raise ValueError(f"years must be at least 1, got {years}")
    history = history or state_history(data, authority, as_at=as_at)
    rates = with_scenario(
        estimate_rates(history, reference_years=reference_years),
        entry_change_pct=entry_change_pct,
        in_house_shift_pct=in_house_shift_pct,
    )
    projection = project(
        history.stock(len(history.dates) - 1),
        rates,
        start=history.dates[-1],
        quarters=4 * years,
        draws=draws,
        seed=seed,
    )
    return Forecast(
        as_at=as_at,
        history=history,
        rates=rates,
        projection=projection,
        districts=forecast_table(projection, history),
        detail=detail_table(projection, history),
    )


UASC_COLUMNS = ["quarter_end", "children", "lower_80", "upper_80", "arrivals", "exits"]


@dataclass(frozen=True, eq=False)
class UascForecast:
    """Unaccompanied asylum-seeking children forecast for the authority as a whole.

    ``table``: :data:`UASC_COLUMNS`, one row per quarter end (the first the census);
    ``arrivals_per_quarter``: the scenario's arrivals; ``reference_arrivals_per_quarter``: the
    mean over the reference window (the default).
    """

    as_at: date
    history: StateHistory
    rates: Rates
    projection: Projection
    arrivals_per_quarter: float
    reference_arrivals_per_quarter: float
    table: pd.DataFrame


def uasc_forecast(
    data: PlacementData,
    authority: Authority,
    *,
    as_at: date,
    years: int = 4,
    reference_years: float = 3.0,
    arrivals_per_quarter: float | None = None,
    draws: int = 1000,
    seed: int = 0,
) -> UascForecast:
    """Forecast the UASC looked after, apart from the headline cohort: their arrivals follow
    national transfer policy, not local need, so they are a scenario the user sets.

    The same stock-flow model as :func:`forecast` over age band × placement kind, on the UASC
    cohort of each census, for the authority as one area (where a UASC's home postcode is
    recorded it says little about where the next ones will need a place). Exits (mostly at 18),
    ageing and moves are the UASC's own, from the reference window; arrivals per quarter are
    ``arrivals_per_quarter`` (default: the mean of the reference window) with the window's mix
    of age bands and placement kinds, Poisson from quarter to quarter.

    Raises :class:`InputError` when the history is too short (:func:`state_history`) or when
    arrivals are set but none arrived in the window (their ages and placements are then
    unknown), and ``ValueError`` for ``years`` < 1 or negative arrivals.
    """
    if years < 1:
        raise ValueError(f"years must be at least 1, got {years}")
    if arrivals_per_quarter is not None and not arrivals_per_quarter >= 0:
        raise ValueError(f"UASC arrivals per quarter must be 0 or more, got {arrivals_per_quarter}")
    full = state_history(data, authority, as_at=as_at, cohort=Cohort.EXCLUDED_UASC)
    history = replace(
        full, areas=(authority.code,), area=np.where(full.area >= 0, 0, -1).astype(np.int64)
    )
    rates = estimate_rates(history, reference_years=reference_years)
    mean = float(rates.entries.sum()) / max(rates.quarters, 1)
    arrivals = mean if arrivals_per_quarter is None else float(arrivals_per_quarter)
    if arrivals > 0 and mean == 0:
        raise InputError(
            f"No UASC arrived between {rates.window[0]:%d/%m/%Y} and {rates.window[1]:%d/%m/%Y}, "
            "so the ages and placements of new arrivals are not known: the UASC arrivals "
            "scenario needs at least one arrival in the reference window (or set it to 0)."
        )
    factor = arrivals / mean if mean > 0 else 0.0
    rates = replace(rates, entry_factor=np.full(N_STATES, factor))
    projection = project(
        history.stock(len(history.dates) - 1),
        rates,
        start=history.dates[-1],
        quarters=4 * years,
        draws=draws,
        seed=seed,
    )
    sims = projection.draws.sum(axis=(2, 3))
    lo, hi = np.quantile(sims, INTERVAL, axis=0)
    table = pd.DataFrame(
        {
            "quarter_end": [d.isoformat() for d in projection.dates],
            "children": np.round(projection.expected.sum(axis=(1, 2)), 1),
            "lower_80": np.floor(lo).astype(int),
            "upper_80": np.ceil(hi).astype(int),
            "arrivals": np.round(np.concatenate([[np.nan], projection.entries[:, 0]]), 1),
            "exits": np.round(np.concatenate([[np.nan], projection.exits[:, 0]]), 1),
        }
    )[UASC_COLUMNS]
    return UascForecast(
        as_at=as_at,
        history=history,
        rates=rates,
        projection=projection,
        arrivals_per_quarter=round(arrivals, 2),
        reference_arrivals_per_quarter=round(mean, 2),
        table=table,
    )
