"""Server-side datasets and cached results. The browser only ever holds a dataset id.

A dataset is the placement files (+ optional carers register) of one source: the synthetic demo,
the configured ``PLACEMAP_DATA_DIR``, or an upload. Heavy results (census, distances, coverage)
are computed once per dataset and filter combination and kept here, in the server process.

Memory is bounded: each dataset keeps at most :data:`RESULTS_PER_DATASET` results (least
recently used evicted), and the store keeps at most ``Settings.max_datasets`` uploaded datasets
in memory (least recently used dropped; they are read again from disk when next asked for).
Who may open an upload is decided by ``may_open`` (set by ``app.auth``); a refused id raises
Forbidden.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from werkzeug.exceptions import Forbidden

from app.settings import Settings
from geo.errors import InputError
from geo.measures import Analysis, analyse
from geo.spatial import Authority, load_authority
from geo.ssda903 import (
    AGE_BAND_LABELS,
    DEFAULT_MAX_MB,
    FileKind,
    PlacementData,
    age_band_index,
    file_kind,
    header_columns,
    latest_date,
    read_carers,
    read_placements,
    recognise,
)
from geo.ssda903.sniff import SNIFF_BYTES

RESULTS_PER_DATASET = 128  # analyses, views and the pages' built outputs (small)


@dataclass(frozen=True)
class Filters:
    """What the user chose on a page; hashable so results can be cached by it."""

    as_at: date | None = None
    disabled: str = "all"  # all | disabled | not_disabled
    age_band: str = "all"  # all | 0-4 | 5-10 | 11-15 | 16+
    kind: str = "all"  # all | in_house_foster | ifa_foster | residential | other
    group: str = "all"  # all | an area group of the authority (e.g. "West Kent")


def find_files(folder: Path) -> dict[str, Path]:
    """The inputs in ``folder``, recognised by content (:mod:`geo.ssda903.sniff`), not by name:
    ``episodes`` is the folder itself (:func:`geo.ssda903.read_placements` reads every table
    in it: XML, CSV or XLSX, one year or several) and ``carers`` the carers register among its
    files, if there is one. Raises :class:`InputError` when two files are carers registers."""
    if not folder.is_dir():
        raise InputError(
            f"The data folder '{folder}' does not exist or is not a folder. Set "
            "PLACEMAP_DATA_DIR to the folder holding the SSDA903 return."
        )
    files: dict[str, Path] = {"episodes": folder}
    carers = [p for p in sorted(folder.iterdir()) if p.is_file() and _is_carers_register(p)]
    if len(carers) > 1:
        raise InputError(
            f"The data folder '{folder}' holds {len(carers)} carers registers "
            f"({', '.join(p.name for p in carers)}). Keep one."
        )
    if carers:
        files["carers"] = carers[0]
    return files


def _is_carers_register(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
        kind = file_kind(head, name=path.name, source=path)
    except (OSError, InputError):
        return False  # read_placements reports it
    return kind is FileKind.TEXT and recognise(header_columns(head)) == "carers"


@dataclass
class Dataset:
    """Placement data (and optional carers) of one source, parsed and validated once."""

    id: str
    label: str
    synthetic: bool
    files: dict[str, Path]
    data: PlacementData
    carers: Any = None  # geo.ssda903.carers register, when a carers file is given
    # The dataset's census date: every page, report download and the trend use it unless a page
    # filter picks another; load_dataset sets it (the demo recipe's date, else the latest date
    # in the data) and DatasetStore.set_census changes it (the Data page).
    as_at: date | None = None
    created: datetime = field(default_factory=datetime.now)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _cache: OrderedDict[Any, Any] = field(default_factory=OrderedDict, repr=False)
    _computing: dict[Any, threading.Lock] = field(default_factory=dict, repr=False)

    @cached_property
    def secret(self) -> bytes:
        """The dataset's secret for the cell-key method (:func:`geo.measures.cell_keys.dataset_secret`)."""
        from geo.measures.cell_keys import dataset_secret

        return dataset_secret(self.data.episodes["CHILD"])

    def cached(self, key: Any, compute: Any) -> Any:
        """Memoise ``compute()`` under ``key`` (LRU, per dataset). Threads asking for the same
        key while it is being computed wait for that one computation instead of repeating it."""
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            key_lock = self._computing.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._cache:
                    return self._cache[key]
            value = compute()
            with self._lock:
                self._cache[key] = value
                self._computing.pop(key, None)
                while len(self._cache) > RESULTS_PER_DATASET:
                    self._cache.popitem(last=False)
        return value


def load_dataset(
    files: dict[str, Path],
    *,
    label: str,
    synthetic: bool,
    dataset_id: str | None = None,
    max_mb: float = DEFAULT_MAX_MB,
    as_at: date | None = None,
    authority: Authority | None = None,
) -> Dataset:
    """Read and validate the files of a dataset (raises InputError when unusable); ``max_mb``
    caps an XML return or workbook (``Settings.max_xml_mb``). ``as_at`` is the default census
    date (default: the latest date in the data); the carers register is read as at that date,
    as ``placemap coverage`` and ``placemap report`` read it (carers approved later supply no
    places)."""
    data = read_placements(
        files["episodes"],
        header=files.get("header"),
        uasc=files.get("uasc"),
        max_mb=max_mb,
        authority=authority,  # an extract's rows of other authorities are set aside
    )
    as_at = as_at or latest_date(data)
    carers = None
    if "carers" in files:
        carers = read_carers(files["carers"], as_at=as_at)
    return Dataset(
        id=dataset_id or uuid.uuid4().hex[:12],
        label=label,
        synthetic=synthetic,
        files=files,
        data=data,
        carers=carers,
        as_at=as_at,
    )


def census_choices(ds: Dataset) -> list[date]:
    """The census dates a user can choose for ``ds``, oldest first: the quarter ends up to the
    latest date in the data and that date (:func:`geo.measures.census_dates`, the trend's
    quarters), plus the dataset's own census date when it is none of those."""
    from geo.measures import census_dates

    dates = census_dates(as_at=latest_date(ds.data))
    if ds.as_at is not None and ds.as_at not in dates:
        dates = sorted([*dates, ds.as_at])
    return dates


class DatasetStore:
    """All datasets known to this server process, plus per-dataset result caches."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.authority: Authority = load_authority(settings.authority)
        self._datasets: OrderedDict[str, Dataset] = OrderedDict()
        self._lock = threading.Lock()
        self._default_id: str | None = None
        # who may open an upload, given its metadata (app.auth installs the rule); None: anyone
        self.may_open: Callable[[dict[str, Any]], bool] | None = None
        self._upload_root: Path | None = None

    # -- datasets ---------------------------------------------------------------------------
    def default_id(self) -> str:
        with self._lock:
            if self._default_id is not None:
                return self._default_id
        if self.settings.data_dir is not None:
            ds = load_dataset(
                find_files(self.settings.data_dir),
                label=f"Data: {self.settings.data_dir.name}",
                synthetic=False,
                dataset_id="configured",
                max_mb=self.settings.max_xml_mb,
                authority=self.authority,
            )
        else:
            from geo.demo import ensure_demo, load_recipe

            folder = ensure_demo(cache_dir=self.settings.cache_dir)
            ds = load_dataset(
                find_files(folder),
                label="Synthetic Kent demo",
                synthetic=True,
                dataset_id="demo",
                max_mb=self.settings.max_xml_mb,
                authority=self.authority,
                as_at=date.fromisoformat(load_recipe()["as_at"]),
            )
        with self._lock:
            self._datasets[ds.id] = ds
            self._default_id = ds.id
        return ds.id

    def add(self, ds: Dataset) -> str:
        """Keep ``ds`` (most recently used); drop the least recently used uploads beyond
        ``Settings.max_datasets`` (the default dataset always stays)."""
        with self._lock:
            self._datasets[ds.id] = ds
            self._datasets.move_to_end(ds.id)
            uploads = [k for k in self._datasets if k != self._default_id]
            for old in uploads[: max(0, len(uploads) - max(1, self.settings.max_datasets))]:
                del self._datasets[old]
        return ds.id

    def set_census(self, dataset_id: str | None, as_at: date) -> Dataset:
        """Make ``as_at`` the census date of the dataset (every page, download and the trend
        then use it). Its cached results are dropped and its carers register is read again as
        at that date; an upload keeps the date in its metadata, so other workers (and a
        restart) use it too. Raises InputError for a date outside :func:`census_choices`."""
        ds = self.get(dataset_id)
        if as_at == ds.as_at:
            return ds
        if as_at not in census_choices(ds):
            raise InputError(
                f"{as_at:%d %B %Y} is not a census date of these data: choose a quarter end or "
                "the latest date in the data."
            )
        carers = read_carers(ds.files["carers"], as_at=as_at) if "carers" in ds.files else None
        with ds._lock:
            ds.as_at = as_at
            ds.carers = carers
            ds._cache.clear()
        from app.data.uploads import is_upload_id, set_upload_census, upload_root

        if is_upload_id(ds.id):
            set_upload_census(upload_root(self.settings), ds.id, as_at)
        return ds

    def remove(self, dataset_id: str) -> None:
        with self._lock:
            self._datasets.pop(dataset_id, None)

    def get(self, dataset_id: str | None) -> Dataset:
        if not dataset_id:
            dataset_id = self.default_id()
        if dataset_id != self._default_id:
            self._check_access(dataset_id)
        with self._lock:
            ds = self._datasets.get(dataset_id)
            if ds is not None:
                self._datasets.move_to_end(dataset_id)
        if ds is not None and ds.id.startswith("up-") and not ds.files["episodes"].exists():
            self.remove(dataset_id)  # an upload deleted (by any worker)
            ds = None
        if ds is None:
            ds = self._load_upload(dataset_id)
        if ds is None:
            return self.get(self.default_id())
        return ds

    def _check_access(self, dataset_id: str) -> None:
        """Raise Forbidden when ``may_open`` refuses the upload ``dataset_id``."""
        from app.data.uploads import is_upload_id, upload_meta, upload_root

        if self.may_open is None or not is_upload_id(dataset_id):
            return
        if self._upload_root is None:
            self._upload_root = upload_root(self.settings)
        meta = upload_meta(self._upload_root, dataset_id)
        if meta is not None and not self.may_open(meta):
            raise Forbidden("These uploaded data belong to another user.")

    def _load_upload(self, dataset_id: str) -> Dataset | None:
        """An upload stored on disk by another worker (or before a restart); None if absent."""
        from app.data.uploads import open_upload, upload_root

        stored = open_upload(upload_root(self.settings), dataset_id)
        if stored is None:
            return None
        label = "Uploaded: " + ", ".join(stored.original_names.values())
        ds = load_dataset(
            stored.files,
            label=label,
            synthetic=False,
            dataset_id=dataset_id,
            max_mb=self.settings.max_xml_mb,
            authority=self.authority,
            as_at=stored.as_at,  # the census date chosen on the Data page, if any
        )
        self.add(ds)
        return ds

    def loaded(self) -> list[str]:
        """Ids of the datasets held in memory now, least recently used first."""
        with self._lock:
            return list(self._datasets)

    def datasets(self) -> list[Dataset]:
        self.default_id()
        with self._lock:
            return list(self._datasets.values())

    def warm_up(self) -> None:
        """Load the default dataset, its analysis and the district boundaries now (the demo is
        generated and boundaries derived on a first run), so the first page opens quickly.
        Raises PlacemapError when the configured data or boundaries are unusable."""
        self.analysis(self.default_id())
        _ = self.browser_geojson

    # -- results ----------------------------------------------------------------------------
    def analysis(self, dataset_id: str | None, as_at: date | None = None) -> Analysis:
        ds = self.get(dataset_id)
        when = as_at or ds.as_at
        return ds.cached(("analysis", when), lambda: analyse(ds.data, self.authority, as_at=when))

    def filtered(self, dataset_id: str | None, filters: Filters) -> pd.DataFrame:
        """Per-child rows of the headline cohort after the filters (server-side only)."""
        a = self.analysis(dataset_id, filters.as_at)
        p = a.placements[a.placements["cohort"] == "included"]
        if filters.disabled == "disabled":
            p = p[p["DISABLED"]]
        elif filters.disabled == "not_disabled":
            p = p[~p["DISABLED"]]
        if filters.age_band in AGE_BAND_LABELS:
            band = age_band_index(p["age_years"].astype("Float64").to_numpy(float, na_value=np.nan))
            p = p[band == AGE_BAND_LABELS.index(filters.age_band)].copy()
        if filters.kind != "all":
            p = p[p["placement_kind"] == filters.kind]
        if filters.group != "all" and filters.group in self.authority.groups:
            codes = list(self.authority.groups[filters.group])
            p = p[p["home_district_code"].isin(codes)]
        return p

    @cached_property
    def boundaries(self) -> Any:
        from geo.spatial.boundaries import load_boundaries

        return load_boundaries(
            authority=self.authority,
            source="auto",
            path=self.settings.boundaries,
            cache_dir=self.settings.cache_dir,
        )

    @cached_property
    def browser_geojson(self) -> dict[str, Any]:
        from geo.spatial.boundaries import browser_geojson

        return clockwise(browser_geojson(self.boundaries))


def clockwise(geojson: dict[str, Any]) -> dict[str, Any]:
    """Exterior rings clockwise, holes anticlockwise: plotly's ``geo`` maps (d3-geo, spherical)
    read an anticlockwise ring as "everything but this polygon" and flood the map."""
    import shapely
    from shapely.geometry import mapping, shape

    features = []
    for f in geojson["features"]:
        geom = shapely.orient_polygons(shape(f["geometry"]), exterior_cw=True)
        features.append({**f, "geometry": mapping(geom)})
    return {**geojson, "features": features}
