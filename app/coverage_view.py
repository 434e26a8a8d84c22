"""Carer coverage for the app: one coverage model per dataset, what-if edits applied on the
server, grid-cell polygons for the maps. Only aggregates leave this module."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from pyproj import Transformer

from app.background import shared
from app.data.store import DatasetStore
from geo.errors import InputError
from geo.progress import Progress

_TO_WGS84 = Transformer.from_crs(27700, 4326, always_xy=True)
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@dataclass(frozen=True)
class Edit:
    """One what-if edit from the browser: add / remove a hypothetical household in a grid cell.

    Only the cell id and the kind travel to the browser — never a carer's or child's location.
    """

    action: str  # "add" | "remove"
    cell: str  # grid cell id "E_N" (south-west corner, metres)
    places: int = 1
    categories: str = "0-4;5-10;11-15;16+"


def _lock(dataset_id: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(dataset_id, threading.Lock())


def require_carers(store: DatasetStore, dataset_id: str | None) -> Any:
    ds = store.get(dataset_id)
    if ds.carers is None:
        raise InputError(
            "This dataset has no carers register, so carer coverage cannot be worked out. "
            "Upload a carers CSV (CARER_ID, POSTCODE, STATUS, APPROVED_PLACES, OCCUPIED_PLACES, "
            "PROVIDER, CATEGORIES) on the Data page."
        )
    return ds


def coverage_model(store: DatasetStore, dataset_id: str | None) -> Any:
    """The dataset's CoverageModel at its default census date (built once, then edited)."""
    from geo.coverage import build_coverage

    ds = require_carers(store, dataset_id)

    def build() -> Any:
        return build_coverage(store.analysis(ds.id), ds.carers).model

    return ds.cached(("coverage_model",), build)


def parse_cell(cell: str) -> tuple[float, float] | None:
    """A grid cell id (``"<easting>_<northing>"`` of its south-west corner, EPSG:27700) as
    numbers; None when it is not one."""
    try:
        e, n = (float(x) for x in cell.split("_"))
    except ValueError:
        return None
    return e, n


def _cell_centre(cell: str, size_m: float) -> tuple[float, float]:
    corner = parse_cell(cell)
    if corner is None:
        raise InputError(f"'{cell}' is not a grid cell id (expected e.g. 555000_150000).")
    return corner[0] + size_m / 2, corner[1] + size_m / 2


def result_with_edits(
    store: DatasetStore,
    dataset_id: str | None,
    edits: tuple[Edit, ...] = (),
    plan: Any = None,
    on: Any = None,
) -> Any:
    """Coverage tables with the households of a recruitment ``plan`` (at its suggested
    sectors' centres) and the what-if ``edits`` applied (the shared model is restored).
    ``on``: another model of the dataset (:class:`app.plan_year.YearModel`), else today's."""
    ds = require_carers(store, dataset_id)
    planned = _planned(store, plan)

    def compute() -> Any:
        from geo.ssda903 import parse_categories

        model, lock = _model_lock(store, ds, on)
        with lock:
            added: list[int] = []
            try:
                for e, n, district, sector in planned:
                    added.append(
                        model.add_carer(
                            easting_m=e,
                            northing_m=n,
                            places=int(plan.kind.places),
                            categories=int(plan.kind.categories),
                            carer_id=f"planned-{len(added) + 1}",
                            district_code=district,
                            sector=sector,
                        )
                    )
                for edit in net_edits(edits):
                    e, n = _cell_centre(edit.cell, model.grid_m)
                    mask, _unknown = parse_categories(edit.categories)
                    added.append(
                        model.add_carer(
                            easting_m=e,
                            northing_m=n,
                            places=int(edit.places),
                            categories=mask,
                            carer_id=f"hypothetical-{len(added) + 1}",
                            district_code=_district_at(store, e, n),
                            sector="",
                        )
                    )
                return model.result()
            finally:
                for key in reversed(added):
                    model.remove_carer(key)

    key = (plan.households, plan.kind.places, plan.kind.categories) if planned else None
    return ds.cached(("coverage_result", edits, key, *_tag(on)), compute)


def _tag(on: Any) -> tuple[Any, ...]:
    """The cache-key tail of another model (nothing for today's: today's keys unchanged)."""
    return () if on is None else (on.tag,)


def _model_lock(store: DatasetStore, ds: Any, on: Any) -> tuple[Any, threading.Lock]:
    """The model to work on (``on``'s, else today's) and the lock that guards it."""
    if on is None:
        return coverage_model(store, ds.id), _lock(ds.id)
    return on.model, _lock(f"{ds.id}:{on.tag}")


def _planned(store: DatasetStore, plan: Any) -> list[tuple[float, float, str, str]]:
    """Where a plan's households go: each suggestion's sector centre (EPSG:27700), district
    and sector, once per household."""
    if plan is None or not len(plan.suggestions):
        return []
    table = _sector_table(store)
    out = []
    for sector in plan.suggestions["sector"]:
        row = table.loc[sector]
        out.append(
            (float(row["easting_m"]), float(row["northing_m"]), str(row["district_code"]), sector)
        )
    return out


def net_edits(edits: tuple[Edit, ...]) -> list[Edit]:
    """Adds minus removes, per cell, in order (a remove takes back the latest add there)."""
    kept: list[Edit] = []
    for edit in edits:
        if edit.action == "add":
            kept.append(edit)
        elif edit.action == "remove":
            for i in range(len(kept) - 1, -1, -1):
                if kept[i].cell == edit.cell:
                    del kept[i]
                    break
    return kept


def _district_at(store: DatasetStore, e: float, n: float) -> str:
    from geo.spatial.boundaries import assign_points

    codes = assign_points(np.array([e]), np.array([n]), store.boundaries)
    code = codes[0] if len(codes) else ""
    return str(code) if isinstance(code, str) else ""


def district_coverage(store: DatasetStore, dataset_id: str | None) -> pd.DataFrame:
    return result_with_edits(store, dataset_id).district


def grid_geojson(cells: list[str], size_m: float) -> dict[str, Any]:
    """Square grid cells (ids = south-west corners in EPSG:27700) as EPSG:4326 GeoJSON."""
    return _grid_geojson(tuple(cells), float(size_m))


@lru_cache(maxsize=64)
def _grid_geojson(cells: tuple[str, ...], size_m: float) -> dict[str, Any]:
    features = []
    for cell in cells:
        corner = parse_cell(cell)
        if corner is None:
            continue
        e, n = corner
        xs = [e, e + size_m, e + size_m, e, e]
        ys = [n, n, n + size_m, n + size_m, n]
        # clockwise in lon/lat for plotly geo (d3-geo)
        lon, lat = _TO_WGS84.transform(xs[::-1], ys[::-1])
        ring = [[round(x, 5), round(y, 5)] for x, y in zip(lon, lat, strict=True)]
        features.append(
            {
                "type": "Feature",
                "id": cell,
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def cell_centre_lonlat(cells: list[str], size_m: float) -> tuple[list[float], list[float]]:
    es, ns = [], []
    for c in cells:
        e, n = _cell_centre(c, size_m)
        es.append(e)
        ns.append(n)
    lon, lat = _TO_WGS84.transform(es, ns)
    return list(lon), list(lat)


@lru_cache(maxsize=4)
def _sector_table_for(codes: tuple[str, ...]) -> pd.DataFrame:
    from geo.spatial import sector_centroids

    return sector_centroids(codes).set_index("sector")


def _sector_table(store: DatasetStore) -> pd.DataFrame:
    return _sector_table_for(tuple(store.authority.district_codes))


def to_lonlat(easting_m: np.ndarray, northing_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """EPSG:27700 metres to lon/lat (EPSG:4326) for a map; NaN where a point is not known."""
    lon, lat = _TO_WGS84.transform(np.asarray(easting_m, float), np.asarray(northing_m, float))
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    bad = ~(np.isfinite(lon) & np.isfinite(lat))
    return np.where(bad, np.nan, lon), np.where(bad, np.nan, lat)


def sector_lonlat(sectors: list[str], store: DatasetStore) -> pd.DataFrame:
    """Centroids (lon/lat, and EPSG:27700 metres) of postcode sectors of the authority (areas,
    not people)."""
    table = _sector_table(store)
    sel = table.reindex(sectors)
    e, n = sel["easting_m"].to_numpy(), sel["northing_m"].to_numpy()
    lon, lat = _TO_WGS84.transform(e, n)
    return pd.DataFrame(
        {"sector": sectors, "lon": lon, "lat": lat, "easting_m": e, "northing_m": n}
    )


def _on_sites(store: DatasetStore, ds: Any, search: Any, on: Any = None) -> Any:
    """``search(model, sites)`` on the dataset's coverage model (``on``'s) and the authority's
    candidate sectors (cached), under the model's lock."""
    from geo.coverage import candidate_sites

    model, lock = _model_lock(store, ds, on)
    sites = ds.cached(("sites",), lambda: candidate_sites(store.authority))
    with lock:
        return search(model, sites)


def recruitment_plan(
    store: DatasetStore,
    dataset_id: str | None,
    *,
    households: int,
    places: int,
    categories: str,
    progress: Progress | None = None,
    on: Any = None,
) -> Any:
    """The recruitment search (cached on the dataset; a background search's result is handed
    over through :func:`app.background.shared`); ``on``: as :func:`result_with_edits`."""
    from geo.coverage import HouseholdKind, recommend_sites
    from geo.ssda903 import parse_categories

    ds = require_carers(store, dataset_id)
    mask, _unknown = parse_categories(categories)
    kind = HouseholdKind(places=int(places), categories=mask)

    def compute() -> Any:
        return _on_sites(
            store,
            ds,
            lambda model, sites: recommend_sites(
                model, sites, households=int(households), kind=kind, progress=progress
            ),
            on,
        )

    key = ("recruit", households, places, categories, *_tag(on))
    return ds.cached(key, lambda: shared(ds, key, compute))


def recruitment_baselines(
    store: DatasetStore,
    dataset_id: str | None,
    plan: Any,
    progress: Progress | None = None,
    on: Any = None,
) -> Any:
    """The plan against random sectors and "biggest district" siting (cached with the plan)."""
    from geo.coverage import compare_with_baselines

    ds = require_carers(store, dataset_id)
    key = (
        "recruit_baselines",
        plan.households,
        plan.kind.places,
        plan.kind.categories,
        *_tag(on),
    )

    def compute() -> Any:
        return _on_sites(
            store,
            ds,
            lambda model, sites: compare_with_baselines(model, sites, plan, progress=progress),
            on,
        )

    return ds.cached(key, lambda: shared(ds, key, compute))


def report_coverage(store: DatasetStore, dataset_id: str | None) -> Any:
    """Carer figures for the district comparison report (the same as ``placemap report``)."""
    from app.reports import coverage_figures

    ds = require_carers(store, dataset_id)
    return ds.cached(
        ("report_coverage",), lambda: coverage_figures(store.analysis(ds.id), ds.carers)
    )


def gap_needs(store: DatasetStore, dataset_id: str | None, on: Any = None) -> pd.DataFrame:
    """The children and the gap by need (:func:`geo.coverage.gap_by_need`) before any new
    household (cached on the dataset); ``on``: as :func:`result_with_edits`."""
    from geo.coverage import gap_by_need

    ds = require_carers(store, dataset_id)

    def compute() -> pd.DataFrame:
        model, lock = _model_lock(store, ds, on)
        with lock:
            return gap_by_need(model)

    return ds.cached(("gap_needs", *_tag(on)), compute)


def recruitment_kinds(
    store: DatasetStore,
    dataset_id: str | None,
    *,
    households: int,
    places: int,
    progress: Progress | None = None,
) -> Any:
    """Which approval closes the most gap for ``households`` of ``places`` each
    (:func:`geo.coverage.suggest_kind`); each kind's search is the cached
    :func:`recruitment_plan`, so choosing the suggested kind costs nothing more."""
    from geo.coverage import suggest_kind
    from geo.ssda903 import format_categories

    ds = require_carers(store, dataset_id)

    def compute() -> Any:
        return suggest_kind(
            gap_needs(store, ds.id),
            places=places,
            search=lambda kind: recruitment_plan(
                store,
                ds.id,
                households=households,
                places=places,
                categories=format_categories(kind.categories),
                progress=progress,
            ),
        )

    return ds.cached(("recruit_kinds", households, places), compute)
