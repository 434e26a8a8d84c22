"""What is measured: the per-child distance table and headline (:func:`analyse`), district
20- and 10-mile compliance, the quarterly trend (the one quarter rule) and the validation report
that reconciles every input row."""

from geo.measures.analysis import PLACEMENT_COLUMNS, Analysis, analyse, distance_table
from geo.measures.compliance import COMPLIANCE_COLUMNS, district_compliance
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
    "COMPLIANCE_COLUMNS",
    "PLACEMENT_COLUMNS",
    "TREND_COLUMNS",
    "Analysis",
    "Trend",
    "ValidationReport",
    "analyse",
    "census_dates",
    "compliance_trend",
    "distance_table",
    "district_compliance",
    "previous_quarter_end",
    "quarter_ends",
    "validation_report",
]
