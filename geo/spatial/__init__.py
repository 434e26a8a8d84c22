"""Where things are: postcodes (ONSPD), the DfE distance, the authority and its districts,
small areas (postcode sectors, grid squares), catchment indexes and district boundaries.

Everything measures in British National Grid (EPSG:27700) metres. The face below is light to
import; :mod:`geo.spatial.catchments` (R-tree, k-d tree) and :mod:`geo.spatial.boundaries`
(geopandas) are imported from their own modules when needed.
"""

from geo.spatial.areas import (
    area_codes,
    area_names,
    area_order,
    grid_cell,
    postcode_sector,
    sector_centroids,
)
from geo.spatial.authority import (
    DEFAULT_AUTHORITY,
    OUTSIDE,
    AreaKind,
    Authority,
    district_name,
    district_names,
    load_authority,
)
from geo.spatial.distance import (
    KM_PER_MILE,
    METRES_PER_MILE,
    DistanceStatus,
    PairDistances,
    dfe_miles,
    dfe_miles_from_metres,
    max_metres_within,
    pair_distances,
    within,
)
from geo.spatial.postcodes import set_cache_dir as set_postcode_cache_dir

__all__ = [
    "DEFAULT_AUTHORITY",
    "KM_PER_MILE",
    "METRES_PER_MILE",
    "OUTSIDE",
    "AreaKind",
    "Authority",
    "DistanceStatus",
    "area_codes",
    "area_names",
    "area_order",
    "PairDistances",
    "dfe_miles",
    "dfe_miles_from_metres",
    "district_name",
    "district_names",
    "grid_cell",
    "load_authority",
    "max_metres_within",
    "pair_distances",
    "postcode_sector",
    "sector_centroids",
    "set_postcode_cache_dir",
    "within",
]
