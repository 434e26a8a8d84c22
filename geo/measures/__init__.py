"""What is measured: the per-child distance table and headline (:func:`analyse`), district
20- and 10-mile compliance, the quarterly trend (the one quarter rule) and the validation report
that reconciles every input row."""

from geo.measures.analysis import PLACEMENT_COLUMNS, Analysis, analyse, distance_table
from geo.measures.benchmark import (
    AREA_TYPES,
    BENCHMARK_COLUMNS,
    AuthorityRef,
    benchmark,
    find_authority,
    median_of,
    rank_of,
    ranks,
    statistical_neighbours,
)
from geo.measures.compliance import COMPLIANCE_COLUMNS, area_of, district_compliance
from geo.measures.dfe_tables import MEASURES, DfeTables, Measure, read_dfe_tables
from geo.measures.reconciliation import (
    RECONCILIATION_COLUMNS,
    latest_year_end,
    own_data_rows,
    own_dfe_measures,
    population_for,
    published_for,
    reconciliation,
    year_end,
)
from geo.measures.trends import (
    TREND_COLUMNS,
    Trend,
    census_dates,
    compliance_trend,
    previous_quarter_end,
    quarter_ends,
)
from geo.measures.validation import ValidationReport, validation_report

__all__ = [
    "AREA_TYPES",
    "BENCHMARK_COLUMNS",
    "MEASURES",
    "RECONCILIATION_COLUMNS",
    "AuthorityRef",
    "DfeTables",
    "Measure",
    "benchmark",
    "find_authority",
    "latest_year_end",
    "median_of",
    "own_data_rows",
    "own_dfe_measures",
    "population_for",
    "published_for",
    "rank_of",
    "ranks",
    "read_dfe_tables",
    "reconciliation",
    "statistical_neighbours",
    "year_end",
    "COMPLIANCE_COLUMNS",
    "PLACEMENT_COLUMNS",
    "TREND_COLUMNS",
    "Analysis",
    "Trend",
    "ValidationReport",
    "analyse",
    "area_of",
    "census_dates",
    "compliance_trend",
    "distance_table",
    "district_compliance",
    "previous_quarter_end",
    "quarter_ends",
    "validation_report",
]
