"""The report in each format: one dispatcher over the renderers (no renderer imports another)."""

from __future__ import annotations

from app.reports.model import FORMATS, Report


def render_report(report: Report, *, fmt: str) -> bytes:
    """The report as bytes in ``fmt`` (``xlsx``, ``pdf``, ``html`` or ``csv`` — the district
    table). Raises ``ValueError`` for another format."""
    if fmt == "xlsx":
        from app.reports.xlsx import render_xlsx

        return render_xlsx(report)
    if fmt == "pdf":
        from app.reports.pdf import render_pdf

        return render_pdf(report)
    if fmt == "html":
        from app.reports.html import render_html

        return render_html(report)
    if fmt == "csv":
        from app.reports.xlsx import render_csv

        return render_csv(report.districts)
    raise ValueError(f"report format {fmt!r} is not one of {', '.join(FORMATS)}")
