"""The one way from an analysis and a carers register to a coverage model.

The CLI (``placemap coverage`` / ``placemap recruit``), the web app and the report all take the
headline cohort's children at home (:func:`geo.coverage.inputs.demand_from_analysis`) and the
register's supplying carers (:func:`geo.coverage.inputs.supply_from_register`) into a
:class:`geo.coverage.model.CoverageModel` for the analysis' authority; they differ only in the
options they pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from geo.coverage.inputs import DemandCounts, demand_from_analysis, supply_from_register
from geo.coverage.model import GRID_M, RADIUS_MILES, CoverageModel, PlacesBasis
from geo.progress import Progress
from geo.spatial.catchments import DEFAULT_METHOD, PairMethod

if TYPE_CHECKING:
    from geo.measures import Analysis
    from geo.ssda903 import CarersRegister


@dataclass(frozen=True, eq=False)
class Coverage:
    """A coverage model and how its demand was drawn from the cohort.

    ``counts``: children of the headline cohort, with and without a home location (children
    without one are not in ``model`` and are never dropped silently).
    """

    model: CoverageModel
    counts: DemandCounts


def build_coverage(
    analysis: Analysis,
    register: CarersRegister,
    *,
    radius_miles: float = RADIUS_MILES,
    grid_m: float = GRID_M,
    places_basis: PlacesBasis | str = PlacesBasis.APPROVED,
    method: PairMethod | str = DEFAULT_METHOD,
    progress: Progress | None = None,
) -> Coverage:
    """Coverage of the headline cohort of ``analysis`` by the carers of ``register`` that
    supply places, for ``analysis.authority``.

    ``radius_miles``: DfE miles a carer may be from a child's home; ``grid_m``: side of the
    square grid cells in metres; ``places_basis``: approved places (structural gap) or vacant
    places only; ``method``: the bulk pair search (every method gives the same pairs).

    A cohort with no located child gives a model with no children (``counts.located == 0``);
    callers that need children check ``counts``. Raises ``ValueError`` for an unknown
    ``places_basis`` or ``method``. ``progress`` hears the stages (pairs, matching, areas).
    """
    demand, counts = demand_from_analysis(analysis)
    model = CoverageModel(
        demand,
        supply_from_register(register),
        authority=analysis.authority,
        radius_miles=radius_miles,
        grid_m=grid_m,
        method=method,
        places_basis=places_basis,
        progress=progress,
    )
    return Coverage(model=model, counts=counts)
