"""Recruitment targets that follow from the demand forecast (issue 19).

For each home district, foster kind (in-house, IFA) and horizon (years after the as-at date):

* **growth** — forecast foster children of that kind (:mod:`geo.measures.forecast`, expected
  value) minus the children of that kind now;
* **coverage gap** — the district's children now without a suitable place within 20 miles
  (:func:`geo.coverage.build_coverage`, the one gap rule), shared between the two kinds in
  proportion to the district's forecast foster children of each kind;
* **net places** = growth + gap share, never below 0, rounded up (a fall in demand frees places
  and so offsets part of the gap);
* **expected losses** = the district's approved places of that provider now × (1 − (1 − r)^years)
  for an annual attrition rate r (share of households leaving a year);
* **gross places** = net + expected losses. Households = places / the provider's mean approved
  places per household, rounded up per district (the total is the sum of the districts).

This mirrors a sufficiency strategy's "recruit 224 (gross) … a minimum of 149 (net) … as on
average 75 placements are lost each year".
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from geo.measures.forecast import FOSTER_KINDS, Forecast, state_labels
from geo.spatial.areas import area_codes
from geo.spatial.authority import OUTSIDE

# Kent: 82 carers lost in a year of ~870 in-house fostering households (the sufficiency
# strategy figures quoted in issue 19 and DESIGN.md §1/§7): 9.4 % a year.
DEFAULT_ATTRITION = round(82 / 870, 3)
ATTRITION_SOURCE = (
    "default 9.4 % of households a year: Kent's 82 carers lost of ~870 in-house fostering "
    "households (Kent sufficiency strategy)"
)
PROVIDER_OF_KIND = {FOSTER_KINDS[0]: "in_house", FOSTER_KINDS[1]: "ifa"}
TARGET_COLUMNS = [
    "years_ahead",
    "year_end",
    "district_code",
    "district_name",
    "placement_kind",
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


def recruitment_targets(
    fc: Forecast,
    coverage_district: pd.DataFrame,
    carers: pd.DataFrame,
    *,
    attrition: float = DEFAULT_ATTRITION,
    years: tuple[int, ...] = (1, 2),
) -> pd.DataFrame:
    """Targets (:data:`TARGET_COLUMNS`), one row per horizon × district × foster kind, then the
    authority total per horizon and kind.

    ``coverage_district``: the ``district`` table of :meth:`CoverageModel.result` (its ``gap``);
    ``carers``: :attr:`CarersRegister.carers` (``supplies``, ``PROVIDER``, ``APPROVED_PLACES``,
    ``district_code``, ``POSTCODE``). Raises ``ValueError`` for an attrition outside 0..1 or a
    horizon beyond the forecast.
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
    places, per_household = _supply(carers, fc, areas)
    kinds = list(FOSTER_KINDS)
    rows = []
    for y in years:
        now = _children_by_kind(fc, 0, kinds)  # (areas, kinds)
        later = _children_by_kind(fc, 4 * y, kinds)
        weight = later.sum(axis=1, keepdims=True)
        share = np.where(weight > 0, later / np.where(weight > 0, weight, 1), 1.0 / len(kinds))
        gap_share = gap[:, None] * share
        growth = later - now
        net = np.ceil(np.maximum(growth + gap_share, 0.0) - 1e-9)
        losses = places * (1.0 - (1.0 - attrition) ** y)
        gross = net + np.ceil(losses - 1e-9)
        year_end = fc.projection.dates[4 * y].isoformat()
        for j, kind in enumerate(kinds):
            for i, code in enumerate(areas):
                rows.append(
                    {
                        "years_ahead": y,
                        "year_end": year_end,
                        "district_code": code,
                        "district_name": names[code],
                        "placement_kind": kind,
                        "children_now": now[i, j],
                        "children_forecast": later[i, j],
                        "growth": growth[i, j],
                        "coverage_gap_share": gap_share[i, j],
                        "net_places": net[i, j],
                        "approved_places_now": places[i, j],
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
        table.groupby(["years_ahead", "year_end", "placement_kind"], sort=False)
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
    table = table.sort_values(["years_ahead", "placement_kind"], kind="stable", ignore_index=True)
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


def _children_by_kind(fc: Forecast, quarter: int, kinds: list[str]) -> np.ndarray:
    """(areas, kinds) expected children at ``quarter`` (0 = the census)."""
    stock = fc.projection.expected[quarter]  # (areas, states)
    labels = [k for _, k in state_labels()]
    return np.stack(
        [stock[:, [s for s, lab in enumerate(labels) if lab == k]].sum(axis=1) for k in kinds],
        axis=1,
    )


def _supply(carers: pd.DataFrame, fc: Forecast, areas: list[str]) -> tuple[np.ndarray, list[float]]:
    """Approved places of supplying carers by (area, kind), and mean places per household per
    kind (0 when the register has none of that provider)."""
    supplying = carers[carers["supplies"].astype(bool)]
    area = area_codes(
        fc.history.authority,
        supplying["district_code"].astype("string"),
        supplying["POSTCODE"].astype("string"),
    ).to_numpy(dtype=object)
    index = {a: i for i, a in enumerate(areas)}
    places = np.zeros((len(areas), len(FOSTER_KINDS)))
    per_household = []
    for j, kind in enumerate(FOSTER_KINDS):
        mine = (supplying["PROVIDER"] == PROVIDER_OF_KIND[kind]).to_numpy()
        approved = supplying["APPROVED_PLACES"].to_numpy(float)
        for a, p in zip(area[mine], approved[mine], strict=True):
            places[index.get(a, index[OUTSIDE]), j] += p
        per_household.append(float(approved[mine].mean()) if mine.any() else 0.0)
    return places, per_household
