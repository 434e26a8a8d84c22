"""Carer coverage: can each child be placed within 20 miles of home in a suitable place, where
are places missing, and where should new foster households be recruited? (DESIGN.md §5–§6.)

The front door is :func:`build_coverage` (an analysis and a carers register in, a
:class:`CoverageModel` out), or :class:`CoverageModel` on :class:`Demand` and :class:`Supply`
built from arrays. Modules: :mod:`~geo.coverage.inputs` (demand, supply, suitability),
:mod:`~geo.coverage.fca` (2SFCA/E2SFCA as pure functions), :mod:`~geo.coverage.matching`
(max-flow, shortage structure), :mod:`~geo.coverage.model` (tables and what-if edits),
:mod:`~geo.coverage.recruitment` (where to recruit), :mod:`~geo.coverage.build`.
"""

from geo.coverage.build import Coverage, build_coverage
from geo.coverage.fca import (
    E2SFCA_BANDS,
    FloatingCatchment,
    WeightFn,
    band_weights,
    two_step_fca,
    uniform_weights,
)
from geo.coverage.inputs import (
    Demand,
    DemandCounts,
    Supply,
    age_band_bits,
    demand_from_analysis,
    suits,
    supply_from_register,
)
from geo.coverage.matching import Matching, Shortage, greedy_assignment, max_flow_assignment
from geo.coverage.model import (
    AREA_COLUMNS,
    DISTRICT_COLUMNS,
    GRID_M,
    RADIUS_MILES,
    SHORTAGE_COLUMNS,
    AreaType,
    CoverageModel,
    CoverageResult,
    PlacesBasis,
)
from geo.coverage.recruitment import (
    NEED_GROUP_COLUMNS,
    SUGGESTION_COLUMNS,
    BaselineComparison,
    HouseholdKind,
    KindAdvice,
    RecruitmentPlan,
    Sites,
    biggest_district_sites,
    candidate_kinds,
    candidate_sites,
    compare_with_baselines,
    gap_by_need,
    recommend_sites,
    siting_gain,
    suggest_kind,
)

__all__ = [
    "AREA_COLUMNS",
    "DISTRICT_COLUMNS",
    "E2SFCA_BANDS",
    "GRID_M",
    "NEED_GROUP_COLUMNS",
    "RADIUS_MILES",
    "SHORTAGE_COLUMNS",
    "SUGGESTION_COLUMNS",
    "AreaType",
    "BaselineComparison",
    "Coverage",
    "CoverageModel",
    "CoverageResult",
    "Demand",
    "DemandCounts",
    "FloatingCatchment",
    "HouseholdKind",
    "KindAdvice",
    "Matching",
    "PlacesBasis",
    "RecruitmentPlan",
    "Shortage",
    "Sites",
    "Supply",
    "WeightFn",
    "age_band_bits",
    "band_weights",
    "biggest_district_sites",
    "build_coverage",
    "candidate_kinds",
    "candidate_sites",
    "compare_with_baselines",
    "demand_from_analysis",
    "gap_by_need",
    "greedy_assignment",
    "max_flow_assignment",
    "recommend_sites",
    "siting_gain",
    "suggest_kind",
    "suits",
    "supply_from_register",
    "two_step_fca",
    "uniform_weights",
]
