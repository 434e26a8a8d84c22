"""The district comparison report for commissioners and the corporate parenting panel.

:func:`build_report` (or :func:`report_from_data`) makes the report model: a headline, tables
with disclosure control applied once, notes and sources. :func:`render_report` writes it as XLSX,
PDF, self-contained HTML or CSV; every format shows the same cells. Palette and fonts come from
:mod:`app.style`, shared with the web app.
"""

from app.reports.model import (
    FORMATS,
    Report,
    build_report,
    coverage_figures,
    headline_sentence,
    report_from_data,
)
from app.reports.render import render_report
from app.reports.tables import Column, CoverageFigures, ReportTable

__all__ = [
    "FORMATS",
    "Column",
    "CoverageFigures",
    "Report",
    "ReportTable",
    "build_report",
    "coverage_figures",
    "headline_sentence",
    "render_report",
    "report_from_data",
]
