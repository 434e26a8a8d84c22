"""placemap's library: how far children in care are placed from home, district by district,
and where foster carers are missing. Data in, data out: no Dash, no environment reads, no
printing.

The public API, re-exported here and loaded on first use (so ``import geo`` stays cheap)::

    import geo

    data = geo.read_placements("903/")                   # SSDA903 XML, CSV or XLSX; any layout
    kent = geo.load_authority("E10000016")
    analysis = geo.analyse(data, kent)                    # census, DfE distances, compliance
    trend = geo.compliance_trend(data, kent)              # quarter by quarter
    carers = geo.read_carers("carers.csv")
    coverage = geo.build_coverage(analysis, carers)       # CoverageModel + what-if

Wings (low to high; each imports only those below it): :mod:`geo.spatial`,
:mod:`geo.ssda903`, :mod:`geo.measures`, :mod:`geo.coverage`, :mod:`geo.disclosure`,
:mod:`geo.demo`. See docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# name -> the wing that defines it
_EXPORTS = {
    "InputError": "geo.errors",
    "PlacemapError": "geo.errors",
    "ReferenceDataError": "geo.errors",
    "Authority": "geo.spatial",
    "load_authority": "geo.spatial",
    "dfe_miles": "geo.spatial",
    "pair_distances": "geo.spatial",
    "load_boundaries": "geo.spatial.boundaries",
    "PlacementData": "geo.ssda903",
    "Census": "geo.ssda903",
    "Cohort": "geo.ssda903",
    "read_placements": "geo.ssda903",
    "take_census": "geo.ssda903",
    "read_carers": "geo.ssda903",
    "CarersRegister": "geo.ssda903",
    "Analysis": "geo.measures",
    "analyse": "geo.measures",
    "district_compliance": "geo.measures",
    "compliance_trend": "geo.measures",
    "validation_report": "geo.measures",
    "CoverageModel": "geo.coverage",
    "build_coverage": "geo.coverage",
    "recommend_sites": "geo.coverage",
    "suppress_table": "geo.disclosure",
    "suppress_district_table": "geo.disclosure",
    "protect_district_table": "geo.disclosure",
    "dataset_secret": "geo.measures.cell_keys",
    "suppress_coverage": "geo.disclosure",
    "demo_dataset": "geo.demo",
    "write_demo": "geo.demo",
}

__all__ = [
    "Analysis",
    "Authority",
    "CarersRegister",
    "Census",
    "Cohort",
    "CoverageModel",
    "InputError",
    "PlacemapError",
    "PlacementData",
    "ReferenceDataError",
    "analyse",
    "build_coverage",
    "compliance_trend",
    "dataset_secret",
    "demo_dataset",
    "dfe_miles",
    "district_compliance",
    "load_authority",
    "load_boundaries",
    "pair_distances",
    "protect_district_table",
    "read_carers",
    "read_placements",
    "recommend_sites",
    "suppress_coverage",
    "suppress_district_table",
    "suppress_table",
    "take_census",
    "validation_report",
    "write_demo",
]

if TYPE_CHECKING:
    from geo.coverage import CoverageModel, build_coverage, recommend_sites
    from geo.demo import demo_dataset, write_demo
    from geo.disclosure import (
        protect_district_table,
        suppress_coverage,
        suppress_district_table,
        suppress_table,
    )
    from geo.errors import InputError, PlacemapError, ReferenceDataError
    from geo.measures import (
        Analysis,
        analyse,
        compliance_trend,
        district_compliance,
        validation_report,
    )
    from geo.measures.cell_keys import dataset_secret
    from geo.spatial import Authority, dfe_miles, load_authority, pair_distances
    from geo.spatial.boundaries import load_boundaries
    from geo.ssda903 import (
        CarersRegister,
        Census,
        Cohort,
        PlacementData,
        read_carers,
        read_placements,
        take_census,
    )


def __getattr__(name: str) -> Any:
    """Load a public name from its wing on first use (PEP 562)."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'geo' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
