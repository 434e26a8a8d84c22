"""Carer coverage: can each child be placed within 20 miles of home in a suitable place, and
where are places missing? (DESIGN.md §5–§6.)

* **Demand** and **supply**: children at home and carers with their places
  (:mod:`geo.coverage.inputs`). A carer *can take* a child when its DfE distance from the child's
  home rounds to ≤ 20.0 miles and it suits the child (:func:`geo.coverage.inputs.suits`).
* **Gap** (structural shortage): children left without a suitable *approved* place within 20
  miles when every place serves one child — exact, by max-flow (:mod:`geo.coverage.matching`).
  Areas get their share of it through the matching-independent shortage structure
  (``children_at_risk``: children that some optimal assignment leaves out), apportioned to whole
  children by largest remainder so areas add up to the total.
* **2SFCA / E2SFCA** places per child (:mod:`geo.coverage.fca`): step 1 divides each carer's
  approved places by the children it can take (E2SFCA: weighted by distance band), step 2 sums
  those ratios over the carers a child can reach, so no place is counted twice.
* **New entrants**: vacant suitable places within 20 miles per child. The gap, 2SFCA and
  ``suitable_places_20mi`` can also be computed on vacant places only
  (``places_basis="vacant"``): then a carer with no vacancy offers nothing.

:class:`CoverageModel` holds the indexes and the current assignment; adding, moving or removing a
carer updates every figure incrementally and gives exactly what a full recompute gives.
Outputs are aggregates by district and area only: no child or carer location leaves this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

import numpy as np
import pandas as pd
from scipy.sparse import csr_array

from geo.coverage.fca import (
    E2SFCA_BANDS,
    FCA_UNIT,
    WeightFn,
    band_weights,
    carer_ratios,
    child_terms,
    row_chunks,
    row_sums,
    sequential_sum,
    two_step_fca,
    uniform_weights,
    weight_percent,
)
from geo.coverage.inputs import Demand, Supply, suits
from geo.coverage.layers import AreaLayer
from geo.coverage.matching import Matching, greedy_assignment
from geo.coverage.pairs import suitable_pairs
from geo.progress import Progress, report
from geo.spatial import (
    OUTSIDE,
    AreaKind,
    Authority,
    area_names,
    area_order,
    dfe_miles,
    district_name,
    grid_cell,
)
from geo.spatial.authority import upper_tier_of
from geo.spatial.catchments import (
    DEFAULT_METHOD,
    Catchment,
    PairMethod,
    PointIndex,
    search_threads,
)

RADIUS_MILES = 20.0
GRID_M = 5000.0
_PARALLEL_PAIRS = 2_000_000  # pairs above which the area and 2SFCA passes run side by side
# The floating catchments every table shows, in this order: 2SFCA (every child in reach counts
# fully) and E2SFCA (distance-band weights).
_WEIGHTS: tuple[WeightFn, WeightFn] = (uniform_weights, band_weights)

DISTRICT_COLUMNS = [
    "district_code",
    "district_name",
    "children",
    "carers",
    "approved_places",
    "vacant_places",
    "suitable_places_20mi",
    "places_per_child_2sfca",
    "gap",
    "places_per_child_e2sfca",
    "vacant_suitable_places_per_child",
    "children_at_risk",
]
AREA_COLUMNS = ["area_type", "area_id", *DISTRICT_COLUMNS]
SHORTAGE_COLUMNS = [
    "cohort",
    "area_type",
    "rank",
    "area_id",
    "district_code",
    "district_name",
    "children",
    "children_at_risk",
    "gap",
    "places_per_child_2sfca",
]


class PlacesBasis(StrEnum):
    """Which places a carer offers in the matching, 2SFCA and ``suitable_places_20mi``."""

    APPROVED = "approved"  # structural: every approved place, whoever is in it now
    VACANT = "vacant"  # new entrants: only the places free now


class AreaType(StrEnum):
    DISTRICT = "district"
    SECTOR = "sector"
    GRID = "grid"


# --- the model ------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CoverageResult:
    """Coverage figures at one moment (tables are aggregates only)."""

    district: pd.DataFrame
    areas: pd.DataFrame
    shortage: pd.DataFrame
    children: int
    carers: int
    gap: int
    children_at_risk: int
    radius_miles: float
    e2sfca_bands: tuple[tuple[float, float], ...]
    places_basis: str


class CoverageModel:
    """Coverage of ``demand`` by ``supply`` that updates in place under what-if edits.

    Builds the child × carer adjacency (only the suitable pairs within ``radius_miles``,
    :func:`geo.coverage.pairs.suitable_pairs`), a maximum assignment and the 2SFCA state; the
    static R-tree of children and dynamic R-tree of carers are built at the first what-if edit.
    ``places_basis``: approved places (structural gap, default) or vacant places.
    :meth:`add_carer`, :meth:`remove_carer` and :meth:`move_carer` update them without a
    rebuild; :meth:`result` gives the tables. Carers are identified by integer keys (their
    position in ``supply``; added carers get the next keys).
    """

    def __init__(
        self,
        demand: Demand,
        supply: Supply,
        *,
        authority: Authority | None = None,
        radius_miles: float = RADIUS_MILES,
        grid_m: float = GRID_M,
        method: PairMethod | str = DEFAULT_METHOD,
        places_basis: PlacesBasis | str = PlacesBasis.APPROVED,
        progress: Progress | None = None,
    ) -> None:
        self.demand = demand
        self.places_basis = PlacesBasis(places_basis)
        self.authority = authority
        self.radius_miles = float(radius_miles)
        self.grid_m = float(grid_m)
        self._carer_id = list(supply.carer_id)
        self._e = supply.easting_m.astype(float).copy()
        self._n = supply.northing_m.astype(float).copy()
        self._places = supply.places.astype(np.int64).copy()
        self._vacant = np.minimum(supply.vacant, supply.places).astype(np.int64)
        self._cap = (
            self._places if self.places_basis is PlacesBasis.APPROVED else self._vacant
        ).copy()
        self._cats = supply.categories.astype(np.int64).copy()
        self._sector = list(supply.sector)
        self._active = np.ones(len(supply), dtype=bool)
        # The R-trees serve what-if edits only: built on first use (the first use comes before
        # any edit, since every edit goes through carer_index, so the supply's own points).
        self._initial_carers = (self._e, self._n)

        # Only the pairs where the carer suits the child and offers places are listed.
        self.adjacency = suitable_pairs(
            demand.easting_m,
            demand.northing_m,
            demand.needs,
            self._e,
            self._n,
            self._cats,
            self._cap,
            radius_miles=self.radius_miles,
            method=method,
            progress=progress,
        )
        self._degree = self.adjacency.degree()
        report(
            progress,
            f"matching {len(demand):,} children to {len(supply):,} households",
            unit="children",
        )
        self.matching = Matching(self.adjacency, self._cap)
        self._extra_child = np.zeros(0, dtype=np.int64)
        self._extra_carer = np.zeros(0, dtype=np.int64)
        self._extra_tenths = np.zeros(0, dtype=np.int64)
        # Two independent passes over the pairs (the sparse products and numpy release the GIL):
        # side by side on two threads when the machine has two CPUs.
        if search_threads() > 1 and self.adjacency.nnz > _PARALLEL_PAIRS:
            with ThreadPoolExecutor(2, thread_name_prefix="coverage") as pool:
                areas = pool.submit(self._init_areas, supply)
                self._init_fca()
                areas.result()
        else:
            self._init_fca()
            self._init_areas(supply)

    @cached_property
    def child_index(self) -> PointIndex:
        """Static R-tree of the children's homes (built on first use)."""
        return PointIndex(self.demand.easting_m, self.demand.northing_m)

    @cached_property
    def carer_index(self) -> PointIndex:
        """Dynamic R-tree of the carers (built on first use, before any edit)."""
        return PointIndex(*self._initial_carers)

    # -- construction helpers ----------------------------------------------------------------

    def _init_fca(self) -> None:
        """2SFCA/E2SFCA state (:func:`geo.coverage.fca.two_step_fca`): per-carer step-1 ratios
        and per-child sums as exact fixed-point integers; and each child's vacant suitable
        places."""
        adj = self.adjacency
        self._reaches = np.bincount(adj.indices, minlength=adj.n_cols) > 0
        fcas = [two_step_fca(adj, self._cap, weight_fn=w) for w in _WEIGHTS]
        self._fca_ratio = [f.ratio for f in fcas]
        self._fca_units = [f.units for f in fcas]
        self._vac = np.zeros(adj.n_rows, dtype=np.int64)
        for lo, hi, start, stop in row_chunks(adj):
            self._vac[start:stop] = row_sums(
                adj.indptr[start : stop + 1], self._vacant[adj.indices[lo:hi]]
            )

    @property
    def _fca(self) -> np.ndarray:
        """2SFCA places per child, per child (float)."""
        return self._fca_units[0] / FCA_UNIT

    @property
    def _efca(self) -> np.ndarray:
        """E2SFCA places per child, per child (float)."""
        return self._fca_units[1] / FCA_UNIT

    def _init_areas(self, supply: Supply) -> None:
        d = self.demand
        # Children's demand comes with its table area (geo.measures.area_of); carers get theirs
        # here from district and postcode sector, so a single-district authority is by
        # postcode district and a region by authority, as in every other table.
        carer_district = np.array(
            [
                self._carer_area(c, s)
                for c, s in zip(supply.district_code, supply.sector, strict=True)
            ],
            dtype=object,
        )
        self._area_list: list[str] = []
        if self.authority is not None:
            self._area_list = area_order(self.authority, [*d.district_code, *carer_district])
        child_district = np.array([self._district_of(c) for c in d.district_code], dtype=object)
        self._districts = AreaLayer(AreaType.DISTRICT, child_district, carer_district)
        if self.authority is not None:
            self._districts.ids([*self._area_list, OUTSIDE])
            self._districts.reach = np.zeros(self._districts.n, dtype=np.int64)
        self._sectors = AreaLayer(AreaType.SECTOR, d.sector, supply.sector)
        self._grid = AreaLayer(
            self.grid_type,
            grid_cell(d.easting_m, d.northing_m, size_m=self.grid_m),
            grid_cell(supply.easting_m, supply.northing_m, size_m=self.grid_m),
        )
        adj = self.adjacency
        # booleans: a product of booleans is their OR, a quarter of the memory of int32 ones
        indicator = csr_array(
            (np.ones(adj.nnz, dtype=bool), adj.indices, adj.indptr),
            shape=(adj.n_rows, adj.n_cols),
        )
        for layer in self._layers:
            layer.reach = np.zeros(layer.n, dtype=np.int64)
            if adj.nnz == 0:
                continue
            # areas × children indicator @ children × carers: which areas reach which carers
            membership = csr_array(
                (
                    np.ones(adj.n_rows, dtype=bool),
                    (layer.child_area, np.arange(adj.n_rows)),
                ),
                shape=(layer.n, adj.n_rows),
            )
            reach = (membership @ indicator).astype(np.int64)  # 1 where an area reaches
            layer.reach = np.asarray(reach @ self._cap, dtype=np.int64)

    @property
    def grid_type(self) -> str:
        return f"grid_{self.grid_m / 1000:g}km"

    @property
    def _layers(self) -> tuple[AreaLayer, AreaLayer, AreaLayer]:
        return (self._districts, self._sectors, self._grid)

    def _district_of(self, code: str) -> str:
        """A child's table area as given (OUTSIDE when not one of the authority's areas)."""
        if self.authority is None:
            return code
        return code if code in self._area_list else OUTSIDE

    def _carer_area(self, district_code: str, sector: str) -> str:
        """A carer's table area from its district (LTLA) code and postcode sector."""
        a = self.authority
        if a is None:
            return district_code
        code = upper_tier_of(district_code) if a.area_kind == AreaKind.AUTHORITY else district_code
        if code not in a.districts:
            return OUTSIDE
        if a.area_kind == AreaKind.POSTCODE_DISTRICT:
            outward = str(sector).split(" ")[0] if sector else ""
            return outward or OUTSIDE
        return str(code)

    # -- what-if -----------------------------------------------------------------------------

    @property
    def n_carers(self) -> int:
        """Carer keys in use (removed carers keep their key)."""
        return len(self._e)

    def active_keys(self) -> np.ndarray:
        return np.flatnonzero(self._active)

    def add_carer(
        self,
        *,
        easting_m: float,
        northing_m: float,
        places: int,
        categories: int,
        vacant: int | None = None,
        carer_id: str | None = None,
        district_code: str = "",
        sector: str = "",
    ) -> int:
        """Add a (real or hypothetical) carer; returns its key. ``vacant`` defaults to
        ``places`` (a new household). Raises ``ValueError`` for a non-finite location or
        negative places."""
        if not (np.isfinite(easting_m) and np.isfinite(northing_m)):
            raise ValueError("a carer needs a finite easting and northing (EPSG:27700 metres)")
        if places < 0 or (vacant is not None and vacant < 0):
            raise ValueError("places must be ≥ 0")
        key = self.n_carers
        vacant = places if vacant is None else min(vacant, places)
        cap = places if self.places_basis is PlacesBasis.APPROVED else vacant
        kids, tenths = self.child_index.within(
            easting_m=easting_m, northing_m=northing_m, radius_miles=self.radius_miles
        )
        ok = suits(self.demand.needs[kids], categories) & (cap > 0)
        kids, tenths = kids[ok], tenths[ok].astype(np.int64)

        self._carer_id.append(carer_id or f"hypothetical-{key}")
        self._e = np.append(self._e, easting_m)
        self._n = np.append(self._n, northing_m)
        self._places = np.append(self._places, places)
        self._vacant = np.append(self._vacant, vacant)
        self._cap = np.append(self._cap, cap)
        self._cats = np.append(self._cats, categories)
        self._sector.append(sector)
        self._active = np.append(self._active, True)
        self.carer_index.insert(key, easting_m=easting_m, northing_m=northing_m)
        self._extra_child = np.concatenate([self._extra_child, kids])
        self._extra_carer = np.concatenate([self._extra_carer, np.full(len(kids), key)])
        self._extra_tenths = np.concatenate([self._extra_tenths, tenths])

        # 2SFCA/E2SFCA: step 1 for the new carer, then its terms join its children's sums.
        for i, weight_fn in enumerate(_WEIGHTS):
            ratio = carer_ratios(
                np.array([cap]), np.array([weight_percent(tenths, weight_fn=weight_fn).sum()])
            )
            self._fca_ratio[i] = np.append(self._fca_ratio[i], ratio)
            self._fca_units[i][kids] += child_terms(
                tenths, np.full(len(kids), ratio[0]), weight_fn=weight_fn
            ).astype(np.int64)
        self._reaches = np.append(self._reaches, len(kids) > 0)
        self._vac[kids] += vacant
        area = self._carer_area(district_code, sector)
        known = self.authority is None or area in self._area_list
        self._districts.add_carer(area if known else OUTSIDE)
        self._sectors.add_carer(sector)
        self._grid.add_carer(
            str(grid_cell(np.array([easting_m]), np.array([northing_m]), size_m=self.grid_m)[0])
        )
        for layer in self._layers:
            layer.reach[np.unique(layer.child_area[kids])] += cap
        self.matching.add_carer(kids, cap)
        return key

    def remove_carer(self, key: int) -> None:
        """Remove carer ``key`` (``KeyError`` if unknown or already removed)."""
        if not (0 <= key < self.n_carers and self._active[key]):
            raise KeyError(f"carer key {key} is not in the model")
        kids = self._children_of(key)
        # The same DfE distances as when its terms were added (same points, same formula).
        miles = dfe_miles(
            self.demand.easting_m[kids],
            self.demand.northing_m[kids],
            np.full(len(kids), self._e[key]),
            np.full(len(kids), self._n[key]),
        )
        tenths = np.rint(miles * 10.0).astype(np.int64)
        self._active[key] = False
        self.carer_index.delete(key)
        cap = int(self._cap[key])
        for i, weight_fn in enumerate(_WEIGHTS):
            self._fca_units[i][kids] -= child_terms(
                tenths, np.full(len(kids), self._fca_ratio[i][key]), weight_fn=weight_fn
            ).astype(np.int64)
            self._fca_ratio[i][key] = 0.0
        if key >= self.adjacency.n_cols:  # an added carer: drop its edges, keep sessions lean
            keep = self._extra_carer != key
            self._extra_child = self._extra_child[keep]
            self._extra_carer = self._extra_carer[keep]
            self._extra_tenths = self._extra_tenths[keep]
        self._vac[kids] -= self._vacant[key]
        for layer in self._layers:
            layer.reach[np.unique(layer.child_area[kids])] -= cap
        self._reaches[key] = False
        self.matching.remove_carer(key)

    def move_carer(
        self,
        key: int,
        *,
        easting_m: float,
        northing_m: float,
        district_code: str = "",
        sector: str = "",
    ) -> int:
        """Move carer ``key`` (same places and categories); returns its new key."""
        if not (0 <= key < self.n_carers and self._active[key]):
            raise KeyError(f"carer key {key} is not in the model")
        spec = {
            "places": int(self._places[key]),
            "vacant": int(self._vacant[key]),
            "categories": int(self._cats[key]),
            "carer_id": self._carer_id[key],
        }
        self.remove_carer(key)
        return self.add_carer(
            easting_m=easting_m,
            northing_m=northing_m,
            district_code=district_code,
            sector=sector,
            **spec,
        )

    def _children_of(self, key: int) -> np.ndarray:
        return self.matching.children_of(key)

    # -- queries ------------------------------------------------------------------------------

    def carers_near(
        self, *, easting_m: float, northing_m: float, radius_miles: float = RADIUS_MILES
    ) -> int:
        """How many carers (current, incl. hypothetical) are within ``radius_miles`` DfE miles
        of a point (from the dynamic R-tree)."""
        keys, _ = self.carer_index.within(
            easting_m=easting_m, northing_m=northing_m, radius_miles=radius_miles
        )
        return len(keys)

    def supply(self) -> Supply:
        """The current carers (active keys in key order), e.g. to rebuild from scratch."""
        k = self.active_keys()
        return Supply(
            carer_id=np.array([self._carer_id[i] for i in k], dtype=object),
            easting_m=self._e[k],
            northing_m=self._n[k],
            places=self._places[k],
            vacant=self._vacant[k],
            categories=self._cats[k],
            district_code=np.array(
                [self._districts.codes[self._districts.carer_area[i]] for i in k], dtype=object
            ),
            sector=np.array([self._sector[i] for i in k], dtype=object),
        )

    def current_adjacency(self) -> tuple[Catchment, np.ndarray]:
        """(children × active-carer adjacency incl. added carers, places), columns = active keys
        in order."""
        keys = self.active_keys()
        col_of = np.full(self.n_carers, -1, dtype=np.int64)
        col_of[keys] = np.arange(len(keys))
        rows = np.concatenate([self.adjacency.row_of_edges(), self._extra_child])
        cols = np.concatenate([self.adjacency.indices.astype(np.int64), self._extra_carer])
        tn = np.concatenate([self.adjacency.tenths.astype(np.int64), self._extra_tenths])
        live = col_of[cols] >= 0
        rows, cols, tn = rows[live], col_of[cols[live]], tn[live]
        order = np.lexsort((cols, rows))
        rows, cols, tn = rows[order], cols[order], tn[order]
        indptr = np.zeros(len(self.demand) + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=len(self.demand)), out=indptr[1:])
        adj = Catchment(
            indptr=indptr,
            indices=cols.astype(np.int32),
            tenths=tn.astype(np.uint16),
            n_cols=len(keys),
        )
        return adj, self._cap[keys]

    def greedy_gap(self) -> int:
        """Children left unmatched by the greedy-by-scarcity assignment (≥ the exact gap)."""
        adj, places = self.current_adjacency()
        return int((greedy_assignment(adj, places) < 0).sum())

    @property
    def gap(self) -> int:
        return self.matching.shortage().gap

    # -- results ------------------------------------------------------------------------------

    def result(self, *, cohorts: Mapping[str, np.ndarray] | None = None) -> CoverageResult:
        """District, area and shortage tables for the current carers.

        ``cohorts``: name → boolean mask over children for the shortage ranking; default
        :meth:`default_cohorts`.
        """
        shortage = self.matching.shortage()
        share_parts = (shortage.at_risk, shortage.deficiency, shortage.component_children)
        area_district = {layer.kind: self._area_district(layer) for layer in self._layers}
        district = self._table(self._districts, share_parts, area_district)
        district = self._district_rows(district, shortage.gap)
        areas = pd.concat(
            [
                self._table(layer, share_parts, area_district)
                for layer in (self._sectors, self._grid)
            ],
            ignore_index=True,
        )
        # Areas known only from a removed carer, and points without a sector, are not rows.
        areas = areas[(areas["area_id"] != "") & ((areas["children"] > 0) | (areas["carers"] > 0))]
        areas = areas.sort_values(["area_type", "area_id"], kind="stable", ignore_index=True)
        cohorts = self.default_cohorts() if cohorts is None else cohorts
        return CoverageResult(
            district=district[DISTRICT_COLUMNS],
            areas=areas[AREA_COLUMNS],
            shortage=self._shortage_table(cohorts, share_parts, area_district),
            children=len(self.demand),
            carers=int(self._active.sum()),
            gap=shortage.gap,
            children_at_risk=int(shortage.at_risk.sum()),
            radius_miles=self.radius_miles,
            e2sfca_bands=E2SFCA_BANDS,
            places_basis=self.places_basis.value,
        )

    def default_cohorts(self) -> dict[str, np.ndarray]:
        """all, disabled, adolescents (11+), siblings (where derived) and each area group."""
        d = self.demand
        with np.errstate(invalid="ignore"):
            adolescents = np.isfinite(d.age_years) & (d.age_years >= 11)
        out = {
            "all": np.ones(len(d), dtype=bool),
            "disabled": d.disabled.copy(),
            "adolescents_11_plus": adolescents,
            "siblings": d.siblings.copy(),
        }
        if self.authority is not None:
            codes = np.asarray(d.district_code, dtype=object)
            for group, members in self.authority.groups.items():
                out[group] = np.isin(codes, list(members))
        return out

    def _names(self) -> dict[str, str]:
        if self.authority is None:
            return {}
        return {
            **area_names(self.authority, self._area_list),
            OUTSIDE: f"Outside {self.authority.name} or not known",
        }

    def _area_district(self, layer: AreaLayer) -> np.ndarray:
        """District of each area: the one most of its children and carers are in (ties: the
        lower code)."""
        if layer is self._districts:
            return np.array(layer.codes, dtype=object)
        codes = np.array(self._districts.codes, dtype=object)
        by_code = np.argsort(codes.astype(str), kind="stable")
        rank = np.empty(len(codes), dtype=np.int64)
        rank[by_code] = np.arange(len(codes))
        a = np.concatenate([layer.child_area, layer.carer_area[self._active]])
        d = rank[
            np.concatenate([self._districts.child_area, self._districts.carer_area[self._active]])
        ]
        out = np.full(layer.n, "", dtype=object)
        if not len(a):
            return out
        nd = len(codes)
        counts = np.bincount(a * nd + d, minlength=layer.n * nd).reshape(layer.n, nd)
        best = np.argmax(counts, axis=1)  # first maximum = lowest code
        has = counts.max(axis=1) > 0
        out[has] = codes[by_code[best[has]]]
        return out

    def _table(
        self,
        layer: AreaLayer,
        share_parts: tuple[np.ndarray, np.ndarray, np.ndarray],
        area_district: Mapping[str, np.ndarray],
    ) -> pd.DataFrame:
        n = layer.n
        ca = layer.child_area
        act = self._active
        ka = layer.carer_area[act]
        children = np.bincount(ca, minlength=n)
        with np.errstate(divide="ignore", invalid="ignore"):

            def per_child(values: np.ndarray) -> np.ndarray:
                total = np.bincount(ca, weights=values, minlength=n)
                return np.where(children > 0, total / children, np.nan)

            at_risk, deficiency, size = share_parts
            districts = area_district[layer.kind]
            names = self._names()
            table = pd.DataFrame(
                {
                    "area_type": str(layer.kind),
                    "area_id": layer.codes,
                    "district_code": districts,
                    "district_name": [self._district_label(c, names) for c in districts],
                    "children": children,
                    "carers": np.bincount(ka, minlength=n),
                    "approved_places": np.bincount(
                        ka, weights=self._places[act], minlength=n
                    ).astype(np.int64),
                    "vacant_places": np.bincount(ka, weights=self._vacant[act], minlength=n).astype(
                        np.int64
                    ),
                    "suitable_places_20mi": layer.reach.copy(),
                    "places_per_child_2sfca": per_child(self._fca),
                    "gap": _apportion(
                        ca, at_risk, deficiency, size, np.ones(len(ca), bool), layer.code_rank()
                    ),
                    "places_per_child_e2sfca": per_child(self._efca),
                    "vacant_suitable_places_per_child": per_child(self._vac.astype(float)),
                    "children_at_risk": np.bincount(ca, weights=at_risk, minlength=n).astype(
                        np.int64
                    ),
                }
            )
        return table

    def _district_rows(self, table: pd.DataFrame, gap: int) -> pd.DataFrame:
        if self.authority is not None:
            order = [*self._area_list, OUTSIDE]
            total_code, total_name = self.authority.code, f"{self.authority.name} total"
        else:
            order = sorted(c for c in table["area_id"] if c)
            total_code, total_name = "TOTAL", "Total"
        table = table.set_index("area_id").reindex(order).reset_index()
        table["district_code"] = table["area_id"]
        n_c = len(self.demand)
        act = self._active
        total = {
            "district_code": total_code,
            "district_name": total_name,
            "children": n_c,
            "carers": int(act.sum()),
            "approved_places": int(self._places[act].sum()),
            "vacant_places": int(self._vacant[act].sum()),
            "suitable_places_20mi": int(self._cap[act & self._reaches].sum()),
            "places_per_child_2sfca": _mean(self._fca),
            "gap": gap,
            "places_per_child_e2sfca": _mean(self._efca),
            "vacant_suitable_places_per_child": _mean(self._vac.astype(float)),
            "children_at_risk": int(self.matching.shortage().at_risk.sum()),
        }
        out = pd.concat([table[DISTRICT_COLUMNS], pd.DataFrame([total])], ignore_index=True)
        ints = [
            "children",
            "carers",
            "approved_places",
            "vacant_places",
            "suitable_places_20mi",
            "gap",
            "children_at_risk",
        ]
        out[ints] = out[ints].fillna(0).astype(np.int64)
        return out

    def _shortage_table(
        self,
        cohorts: Mapping[str, np.ndarray],
        share_parts: tuple[np.ndarray, np.ndarray, np.ndarray],
        area_district: Mapping[str, np.ndarray],
    ) -> pd.DataFrame:
        at_risk, deficiency, size = share_parts
        names = self._names()
        cols: dict[str, list[np.ndarray]] = {c: [] for c in SHORTAGE_COLUMNS}
        ids_of = {layer.kind: layer.code_array() for layer in self._layers}
        rank_of = {layer.kind: layer.code_rank() for layer in self._layers}
        for name, mask in cohorts.items():
            mask = np.asarray(mask, dtype=bool)
            if not (mask & at_risk).any():
                continue
            for layer in self._layers:
                ca = layer.child_area
                risk = np.bincount(ca[mask & at_risk], minlength=layer.n)
                ids, rank = ids_of[layer.kind], rank_of[layer.kind]
                rows = np.flatnonzero((risk > 0) & (ids != ""))
                if not len(rows):
                    continue
                children = np.bincount(ca[mask], minlength=layer.n)
                gap = _apportion(ca, at_risk, deficiency, size, mask, rank)
                fca = np.bincount(ca[mask], weights=self._fca[mask], minlength=layer.n)
                order = np.lexsort((rank[rows], -risk[rows], -gap[rows]))
                rows = rows[order]
                districts = area_district[layer.kind][rows]
                cols["cohort"].append(np.full(len(rows), name, dtype=object))
                cols["area_type"].append(np.full(len(rows), str(layer.kind), dtype=object))
                cols["rank"].append(np.arange(1, len(rows) + 1))
                cols["area_id"].append(ids[rows])
                cols["district_code"].append(districts)
                cols["district_name"].append(
                    np.array([self._district_label(c, names) for c in districts], dtype=object)
                )
                cols["children"].append(children[rows])
                cols["children_at_risk"].append(risk[rows])
                cols["gap"].append(gap[rows])
                cols["places_per_child_2sfca"].append(fca[rows] / children[rows])
        if not cols["cohort"]:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in SHORTAGE_COLUMNS})
        return pd.DataFrame({c: np.concatenate(v) for c, v in cols.items()})

    @staticmethod
    def _district_label(code: str, names: Mapping[str, str]) -> str:
        return names.get(code) or (district_name(code) if code and code != OUTSIDE else code)


def _mean(values: np.ndarray) -> float:
    return float(sequential_sum(values) / len(values)) if len(values) else float("nan")


def _apportion(
    child_area: np.ndarray,
    at_risk: np.ndarray,
    deficiency: np.ndarray,
    size: np.ndarray,
    mask: np.ndarray,
    code_rank: np.ndarray,
) -> np.ndarray:
    """Whole-child gap per area: each child at risk carries deficiency/size of its component;
    areas' shares are rounded by largest remainder (ties by area id, via ``code_rank``) so they
    add up to the cohort's share rounded to a whole child.

    The shares are summed over (area, deficiency, size) groups in sorted order, so the result
    depends only on the matching-independent structure, never on labels or edit history.
    """
    n = len(code_rank)
    sel = mask & at_risk
    if not sel.any():
        return np.zeros(n, dtype=np.int64)
    base = int(size.max()) + 1
    key = (child_area[sel] * base + deficiency[sel]) * base + size[sel]
    uniq, counts = np.unique(key, return_counts=True)
    rest, s = np.divmod(uniq, base)
    area, d = np.divmod(rest, base)
    quota = np.bincount(area, weights=d * counts / s, minlength=n)
    total = int(np.floor(sequential_sum(quota) + 0.5 + 1e-9))
    floors = np.floor(quota + 1e-9).astype(np.int64)
    remainder = np.where(quota > 0, quota - floors, -1.0)
    left = total - int(floors.sum())
    if left > 0:
        order = np.lexsort((code_rank, -np.round(remainder, 9)))
        floors[order[:left]] += 1
    return floors
