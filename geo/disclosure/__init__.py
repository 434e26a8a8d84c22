"""Disclosure control (DESIGN.md §7): the suppression engine and one policy per kind of table,
which every output (pages, reports, CLI files) calls."""

from geo.disclosure.benchmark import protect_own_measures, suppress_own_measures
from geo.disclosure.cellkey import (
    PERTURBATION_NOTE,
    PTABLE,
    PerturbationTable,
    definition_key,
    perturb,
    protect_children,
    protect_columns,
    protect_count,
    protect_district_table,
    protect_gap,
    protect_trend,
    protected_pct,
    shown_text,
)
from geo.disclosure.coverage import SuppressedCoverage, protect_coverage, suppress_coverage
from geo.disclosure.forecast import suppress_forecast, whole_children
from geo.disclosure.policy import DISTRICT_COUNTS, suppress_district_table, suppress_trend
from geo.disclosure.suppression import (
    NO_SUPPRESSION_NOTE,
    SMALLEST_SHOWN,
    SUPPRESSED,
    SUPPRESSION_NOTE,
    Suppressed,
    is_small,
    mark_hidden,
    suppress_counts,
    suppress_table,
)

__all__ = [
    "PERTURBATION_NOTE",
    "PTABLE",
    "PerturbationTable",
    "definition_key",
    "perturb",
    "protect_children",
    "protect_columns",
    "protect_count",
    "protect_coverage",
    "protect_district_table",
    "protect_own_measures",
    "protect_gap",
    "protect_trend",
    "protected_pct",
    "shown_text",
    "DISTRICT_COUNTS",
    "NO_SUPPRESSION_NOTE",
    "SMALLEST_SHOWN",
    "SUPPRESSED",
    "SUPPRESSION_NOTE",
    "Suppressed",
    "SuppressedCoverage",
    "is_small",
    "mark_hidden",
    "suppress_counts",
    "suppress_coverage",
    "suppress_district_table",
    "suppress_forecast",
    "suppress_own_measures",
    "suppress_table",
    "suppress_trend",
    "whole_children",
]
