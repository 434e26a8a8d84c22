"""Recruitment targets that follow from the demand forecast (issue 19).

For each home district, foster kind (in-house, IFA) and horizon (years after the as-at date):

* **growth** — forecast foster children of that kind (:mod:`geo.measures.forecast`, expected
  value) minus the children of that kind now;
* **coverage gap** — with ``coverage`` (:func:`geo.coverage.forecast_demand.forecast_coverage`):
  the district's forecast children at the year end without a suitable place within 20 miles
  of today's carers, by the coverage model on the forecast demand (the one gap rule), shared
  between the two kinds in proportion to the gap their children carry (or, when no foster
  child of the district is at risk, to the district's forecast foster children of each kind).
  Without it (a quick approximation): the district's children *now* without one
  (:func:`geo.coverage.build_coverage`), shared in proportion to the forecast foster children;
* **net places** = the gap share on the forecast demand (which already holds the growth: new
  children where places are short, none where they are spare), or, approximated from today's
  gap, growth + gap share; never below 0, rounded up (a fall in demand frees places and so
  offsets part of the gap);
* **expected losses** = the district's approved places of that provider now × (1 − (1 − r)^years)
  for an annual attrition rate r (share of households leaving a year);
* **gross places** = net + expected losses. Households = places / the provider's mean approved
  places per household, rounded up per district (the total is the sum of the districts).

This mirrors a sufficiency strategy's "recruit 224 (gross) … a minimum of 149 (net) … as on
average 75 placements are lost each year".

Each district × kind row has ``need == "all"``: it is the target. With the coverage ``demand``
given, "of which" rows follow for each need a carer must be approved for: the age bands (``0-4``
… ``16+``, the forecast's own bands), ``disability`` and ``siblings`` (the forecast children of
each band times the share of the district's children of that band with the need now, by the
coverage model's need rule). A need row's growth and gap share are its part of the district's
forecast children, its losses those of the households approved for that need; need rows overlap
(a disabled 12-year-old is in ``11-15`` and ``disability``) and are not added up.

The attrition rate r comes from the register's own history when it has deregistration dates
(:func:`attrition_from_register`), else from the user, else :data:`DEFAULT_ATTRITION`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from geo.coverage.forecast_demand import YearCoverage
from geo.coverage.inputs import Demand
from geo.measures.forecast import FOSTER_KINDS, KINDS, N_KINDS, Forecast, state_labels
from geo.spatial.areas import area_codes
from geo.spatial.authority import OUTSIDE
from geo.ssda903 import AGE_BAND_LABELS, CATEGORY_BIT, Category, age_band_index

# Kent: 82 carers lost in a year of ~870 in-house fostering households (the sufficiency
# strategy figures quoted in issue 19 and DESIGN.md §1/§7): 9.4 % a year.
DEFAULT_ATTRITION = round(82 / 870, 3)
ATTRITION_SOURCE = (
    "default 9.4 % of households a year: Kent's 82 carers lost of ~870 in-house fostering "
    "households (Kent sufficiency strategy)"
)
PROVIDER_OF_KIND = {FOSTER_KINDS[0]: "in_house", FOSTER_KINDS[1]: "ifa"}
ALL_NEEDS = "all"
NEEDS: tuple[str, ...] = (*AGE_BAND_LABELS, "disability", "siblings")
_NEED_CATEGORY = {
    **dict(
        zip(
            AGE_BAND_LABELS,
            (Category.AGE_0_4, Category.AGE_5_10, Category.AGE_11_15, Category.AGE_16_PLUS),
            strict=True,
        )
    ),
    "disability": Category.DISABILITY,
    "siblings": Category.SIBLINGS,
}
TARGET_COLUMNS = [
    "years_ahead",
    "year_end",
    "district_code",
    "district_name",
    "placement_kind",
    "need",
    "children_now",
    "children_forecast",
    "growth",
    "coverage_gap_share",
    "net_places",
    "approved_places_now",
    "expected_losses",
    "gross_places",
    "places_per_household",
    "net_households",
    "gross_households",
]


@dataclass(frozen=True)
class Attrition:
    """Share of fostering households lost a year and where it came from.

    From a register: ``deregistered`` households with a ``DEREGISTRATION_DATE`` in the year
    before the as-at date, of ``at_start`` households approved (and not yet deregistered) at the
    start of that year.
    """

    rate: float
    source: str
    deregistered: int | None = None
    at_start: int | None = None


def attrition_from_register(carers: pd.DataFrame, *, as_at: date) -> Attrition | None:
    """The register's own attrition over the year before ``as_at``, or ``None`` when it records
    no deregistration date in that year (then a user rate or the default applies).

    ``carers``: :attr:`CarersRegister.carers`. Households counted at the start of the year are
    those approved or deregistered (never the ones in assessment), approved on or before that day
    (an unknown approval date counts as approved) and not deregistered before it.
    """
    if "DEREGISTRATION_DATE" not in carers.columns:
        return None
    start = pd.Timestamp(as_at) - pd.DateOffset(years=1)
    gone = pd.to_datetime(carers["DEREGISTRATION_DATE"])
    approved = pd.to_datetime(carers["APPROVAL_DATE"])
    ever = carers["STATUS"].isin(["approved", "on_hold", "deregistered"])
    at_start = ever & (approved.isna() | (approved <= start)) & (gone.isna() | (gone > start))
    left = at_start & gone.notna() & (gone <= pd.Timestamp(as_at))
    n_start, n_left = int(at_start.sum()), int(left.sum())
    if n_left == 0 or n_start == 0:
        return None
    rate = round(n_left / n_start, 3)
    return Attrition(
        rate=rate,
        source=f"the carers register: {n_left} households deregistered between "
        f"{start:%d/%m/%Y} and {as_at:%d/%m/%Y} of {n_start} approved at the start "
        f"({100 * rate:.1f} % a year)",
        deregistered=n_left,
        at_start=n_start,
    )


def choose_attrition(
    carers: pd.DataFrame | None,
    *,
    as_at: date,
    rate: float | None = None,
    source: str = "the rate given",
) -> Attrition:
    """The attrition the targets use: ``rate`` when one is given (``source`` says by whom),
    else the register's own year of deregistrations (:func:`attrition_from_register`), else
    :data:`DEFAULT_ATTRITION`. The CLI and the Forecast page both ask here."""
    if rate is not None:
        return Attrition(rate=rate, source=source)
    found = None if carers is None else attrition_from_register(carers, as_at=as_at)
    return found or Attrition(rate=DEFAULT_ATTRITION, source=ATTRITION_SOURCE)


def recruitment_targets(
    fc: Forecast,
    coverage_district: pd.DataFrame,
    carers: pd.DataFrame,
    *,
    attrition: float = DEFAULT_ATTRITION,
    years: tuple[int, ...] = (1, 2),
    demand: Demand | None = None,
    coverage: Sequence[YearCoverage] | None = None,
) -> pd.DataFrame:
    """Targets (:data:`TARGET_COLUMNS`), one row per horizon × district × foster kind, then the
    authority total per horizon and kind (``need == "all"``); with ``demand`` (the coverage
    model's children, :attr:`CoverageModel.demand`), the need rows of each (see the module).

    ``coverage_district``: the ``district`` table of :meth:`CoverageModel.result` (its ``gap``:
    today's, used only without ``coverage``); ``coverage``: the coverage model on the forecast
    demand of each of ``years`` (:func:`geo.coverage.forecast_demand.forecast_coverage`);
    ``carers``: :attr:`CarersRegister.carers` (``supplies``, ``PROVIDER``, ``APPROVED_PLACES``,
    ``category_mask``, ``district_code``, ``POSTCODE``). Raises ``ValueError`` for an attrition
    outside 0..1, a horizon beyond the forecast or a horizon ``coverage`` does not cover.
    """
    if not 0.0 <= attrition < 1.0:
        raise ValueError(f"attrition {attrition} must be a share between 0 and 1 (e.g. 0.094)")
    horizon = len(fc.projection.dates) - 1
    if any(y < 1 or 4 * y > horizon for y in years):
        raise ValueError(f"years {years} must be within the forecast's {horizon // 4} years")
    history = fc.history
    names = history.names()
    areas = list(history.areas)
    gap = (
        coverage_district.set_index("district_code")["gap"].reindex(areas).fillna(0).to_numpy(float)
    )
    needs = [ALL_NEEDS] + (list(NEEDS) if demand is not None else [])
    places, per_household = _supply(carers, fc, areas, needs)  # (needs, areas, kinds)
    share_now = _need_shares(demand, areas) if demand is not None else None
    kinds = list(FOSTER_KINDS)
    by_year = {yc.years_ahead: yc for yc in coverage or ()}
    if coverage is not None and (missing := [y for y in years if y not in by_year]):
        raise ValueError(f"no coverage on the forecast demand for years {missing}")
    foster = [KINDS.index(k) for k in kinds]
    rows = []
    for y in years:
        now_b = _children_by_band_kind(fc, 0, kinds)  # (areas, bands, kinds)
        later_b = _children_by_band_kind(fc, 4 * y, kinds)
        weight = later_b.sum(axis=(1, 2))[:, None]
        later = later_b.sum(axis=1)
        share = np.where(weight > 0, later / np.where(weight > 0, weight, 1), 1.0 / len(kinds))
        yc = by_year.get(y)
        if yc is None:
            gap_share = gap[:, None] * share  # (areas, kinds): today's gap
        else:
            # The forecast demand's gap, shared as the foster children at risk carry it.
            carried = yc.kind_gap[:, foster].astype(float)
            held = carried.sum(axis=1, keepdims=True)
            share = np.where(held > 0, carried / np.where(held > 0, held, 1), share)
            gap_share = yc.district_gap[:, None].astype(float) * share
        year_end = fc.projection.dates[4 * y].isoformat()
        for n_i, need in enumerate(needs):
            part_now, part_later = _need_part(need, now_b, later_b, share_now)
            # The need's part of the district's gap share: its part of the forecast children.
            total_later = later_b.sum(axis=1)
            frac = np.where(
                total_later > 0, part_later / np.where(total_later > 0, total_later, 1), 0
            )
            g_share = gap_share * (1.0 if need == ALL_NEEDS else frac)
            growth = part_later - part_now
            # On the forecast demand the gap already holds the growth.
            need_now = g_share if yc is not None else growth + g_share
            net = np.ceil(np.maximum(need_now, 0.0) - 1e-9)
            losses = places[n_i] * (1.0 - (1.0 - attrition) ** y)
            gross = net + np.ceil(losses - 1e-9)
            for j, kind in enumerate(kinds):
                for i, code in enumerate(areas):
                    rows.append(
                        {
                            "years_ahead": y,
                            "year_end": year_end,
                            "district_code": code,
                            "district_name": names[code],
                            "placement_kind": kind,
                            "need": need,
                            "children_now": part_now[i, j],
                            "children_forecast": part_later[i, j],
                            "growth": growth[i, j],
                            "coverage_gap_share": g_share[i, j],
                            "net_places": net[i, j],
                            "approved_places_now": places[n_i, i, j],
                            "expected_losses": losses[i, j],
                            "gross_places": gross[i, j],
                            "places_per_household": per_household[j],
                        }
                    )
    table = pd.DataFrame(rows)
    for col in ("net", "gross"):
        table[f"{col}_households"] = [
            math.ceil(p / h - 1e-9) if h > 0 else 0
            for p, h in zip(table[f"{col}_places"], table["places_per_household"], strict=True)
        ]
    totals = (
        table.groupby(["years_ahead", "year_end", "placement_kind", "need"], sort=False)
        .agg(
            {
                c: "sum"
                for c in (
                    "children_now",
                    "children_forecast",
                    "growth",
                    "coverage_gap_share",
                    "net_places",
                    "approved_places_now",
                    "expected_losses",
                    "gross_places",
                    "net_households",
                    "gross_households",
                )
            }
            | {"places_per_household": "first"}
        )
        .reset_index()
    )
    totals["district_code"] = history.authority.code
    totals["district_name"] = names[history.authority.code]
    table = pd.concat([table, totals], ignore_index=True)
    table["_need"] = table["need"].map({n: i for i, n in enumerate(needs)})
    table = table.sort_values(
        ["years_ahead", "_need", "placement_kind"], kind="stable", ignore_index=True
    )
    for col in ("children_now", "net_places", "approved_places_now", "gross_places"):
        table[col] = table[col].round().astype(int)
    for col in (
        "children_forecast",
        "growth",
        "coverage_gap_share",
        "expected_losses",
        "places_per_household",
    ):
        table[col] = table[col].astype(float).round(2)
    return table[TARGET_COLUMNS]


def _children_by_band_kind(fc: Forecast, quarter: int, kinds: list[str]) -> np.ndarray:
    """(areas, bands, kinds) expected children at ``quarter`` (0 = the census)."""
    stock = fc.projection.expected[quarter]  # (areas, states); state = band * N_KINDS + kind
    labels = [k for _, k in state_labels()]
    by_state = stock.reshape(stock.shape[0], len(AGE_BAND_LABELS), N_KINDS)
    cols = [labels.index(k) for k in kinds]  # the kind's index within a band
    return by_state[:, :, cols]


def _need_shares(demand: Demand, areas: list[str]) -> dict[str, np.ndarray]:
    """(areas, bands) share of the children of each district and band now who are disabled /
    in a sibling group, by the coverage model's need flags (the authority's share where a
    district has no child of that band)."""
    band = age_band_index(demand.age_years)
    index = {a: i for i, a in enumerate(areas)}
    area = np.array([index.get(str(c), index[OUTSIDE]) for c in demand.district_code])
    ok = band >= 0
    cells = len(areas) * len(AGE_BAND_LABELS)
    flat = area[ok] * len(AGE_BAND_LABELS) + band[ok]
    n = np.bincount(flat, minlength=cells).reshape(len(areas), -1).astype(float)
    out = {}
    for need, flag in (("disability", demand.disabled), ("siblings", demand.siblings)):
        k = np.bincount(flat, weights=flag[ok].astype(float), minlength=cells)
        k = k.reshape(len(areas), -1)
        pooled = k.sum(axis=0) / np.maximum(n.sum(axis=0), 1)
        out[need] = np.where(n > 0, k / np.where(n > 0, n, 1), pooled[None, :])
    return out


def _need_part(
    need: str,
    now_b: np.ndarray,
    later_b: np.ndarray,
    share_now: dict[str, np.ndarray] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """(areas, kinds) children now and forecast with ``need``."""
    if need == ALL_NEEDS:
        return now_b.sum(axis=1), later_b.sum(axis=1)
    if need in AGE_BAND_LABELS:
        b = AGE_BAND_LABELS.index(need)
        return now_b[:, b, :], later_b[:, b, :]
    assert share_now is not None
    s = share_now[need][:, :, None]  # (areas, bands, 1)
    return (now_b * s).sum(axis=1), (later_b * s).sum(axis=1)


def _supply(
    carers: pd.DataFrame, fc: Forecast, areas: list[str], needs: list[str]
) -> tuple[np.ndarray, list[float]]:
    """Approved places of supplying carers by (need, area, kind) — for a need, of the
    households approved for it — and mean places per household per kind (0 when the register
    has none of that provider)."""
    supplying = carers[carers["supplies"].astype(bool)]
    area = area_codes(
        fc.history.authority,
        supplying["district_code"].astype("string"),
        supplying["POSTCODE"].astype("string"),
    ).to_numpy(dtype=object)
    index = {a: i for i, a in enumerate(areas)}
    row = np.array([index.get(a, index[OUTSIDE]) for a in area], dtype=np.int64)
    mask = supplying["category_mask"].to_numpy(np.int64)
    approved = supplying["APPROVED_PLACES"].to_numpy(float)
    places = np.zeros((len(needs), len(areas), len(FOSTER_KINDS)))
    per_household = []
    for j, kind in enumerate(FOSTER_KINDS):
        mine = (supplying["PROVIDER"] == PROVIDER_OF_KIND[kind]).to_numpy()
        for n_i, need in enumerate(needs):
            ok = mine.copy()
            if need != ALL_NEEDS:
                ok &= (mask & CATEGORY_BIT[_NEED_CATEGORY[need]]) != 0
            places[n_i, :, j] = np.bincount(row[ok], weights=approved[ok], minlength=len(areas))
        per_household.append(float(approved[mine].mean()) if mine.any() else 0.0)
    return places, per_household
