"""Spreadsheet outputs of the report: XLSX (openpyxl) and CSV, safe to open in Excel.

Safe exports: a text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return could run as a formula (CSV injection, OWASP), so it is written with a leading ``'``; in
XLSX the cell is also typed as text. Numbers stay numbers.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from app.reports.model import Report, headline_sentence
from app.reports.tables import ReportTable
from geo.writing import csv_bytes, neutralise_cell

NUMBER_FORMATS = {"int": "#,##0", "pct": "0.0", "miles": "0.0", "ratio": "0.00", "text": "@"}
HEADER_FILL = PatternFill("solid", fgColor="DCE3EC")
SHEET_TITLES = {
    "districts": "Districts",
    "groups": "Areas",
    "cohorts": "Cohorts",
    "trend": "Trend % within 20",
    "trend_children": "Trend children",
    "shortage_areas": "Shortage areas",
    "recruitment": "Recruitment",
    "benchmark": "Benchmark",
}


def render_csv(table: ReportTable) -> bytes:
    """One report table as CSV (headings from the column labels), formula-safe, UTF-8."""
    frame = table.data[[c.key for c in table.columns]]
    frame.columns = [c.label for c in table.columns]
    return csv_bytes(frame)


def render_xlsx(report: Report) -> bytes:
    """The report as an XLSX workbook: a Summary sheet, one sheet per table, and Notes."""
    wb = Workbook()
    summary = wb.active
    assert summary is not None
    summary.title = "Summary"
    _summary_sheet(summary, report)
    for table in report.tables:
        ws = wb.create_sheet(SHEET_TITLES.get(table.key, table.key[:31]))
        _table_sheet(ws, table)
    _notes_sheet(wb.create_sheet("Notes"), report)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _write(ws: Worksheet, row: int, col: int, value: Any, number_format: str | None = None) -> None:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        value = int(value)
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        cell.value = neutralise_cell(value)
        cell.data_type = "s"  # never a formula, whatever the text
        if value == "c":
            cell.alignment = Alignment(horizontal="right")
        return
    cell.value = value
    if number_format:
        cell.number_format = number_format


def _table_sheet(ws: Worksheet, table: ReportTable) -> None:
    for j, col in enumerate(table.columns, start=1):
        _write(ws, 1, j, col.label)
        c = ws.cell(row=1, column=j)
        c.font = Font(bold=True)
        c.fill = HEADER_FILL
        c.alignment = Alignment(wrap_text=True, vertical="top")
    for i, (_, row) in enumerate(table.data.iterrows(), start=2):
        bold = (i - 2) in table.bold_rows
        for j, col in enumerate(table.columns, start=1):
            _write(ws, i, j, row[col.key], NUMBER_FORMATS[col.kind])
            if bold:
                ws.cell(row=i, column=j).font = Font(bold=True)
    ws.freeze_panes = "C2" if len(table.columns) > 2 and table.columns[1].kind == "text" else "B2"
    for j, col in enumerate(table.columns, start=1):
        values = [str(v) for v in table.data[col.key].tolist()]
        longest = max([len(v) for v in values] + [min(len(col.label), 14), 6])
        ws.column_dimensions[get_column_letter(j)].width = min(longest + 2, 48)
    ws.row_dimensions[1].height = 32
    if table.note:
        r = len(table.data) + 3
        _write(ws, r, 1, table.note)
        ws.cell(row=r, column=1).font = Font(italic=True)


def _summary_sheet(ws: Worksheet, report: Report) -> None:
    h = report.headline
    ws["A1"] = report.title
    ws["A1"].font = Font(bold=True, size=14)
    _write(ws, 2, 1, headline_sentence(report))
    rows: list[tuple[str, Any, str]] = [
        ("As-at date", h.as_at.isoformat(), "text"),
        ("Children in the headline cohort", h.children, "int"),
        ("with a known distance", h.known, "int"),
        ("% within 20 miles", h.pct_within_20, "pct"),
        ("Target % within 20 miles", h.target_pct, "pct"),
        ("Difference from target (points)", h.gap_to_target_points, "pct"),
        (f"% within 20 miles at {h.previous_as_at.isoformat()}", h.previous_pct_within_20, "pct"),
        ("Change on previous quarter (points)", h.change_points, "pct"),
        ("% within 10 miles", h.pct_within_10, "pct"),
        ("Median miles", h.median_miles, "miles"),
        ("UASC children (not in the headline)", "c" if h.uasc_hidden else h.uasc_children, "int"),
        ("UASC: % within 20 miles", h.uasc_pct_within_20, "pct"),
        ("Disclosure control", "on" if report.suppressed else "OFF (analyst copy)", "text"),
    ]
    for i, (label, value, kind) in enumerate(rows, start=4):
        _write(ws, i, 1, label)
        _write(ws, i, 2, value, NUMBER_FORMATS[kind])
    _write(ws, len(rows) + 5, 1, report.disclosure_note)
    ws.column_dimensions["A"].width = 44
    ws.column_dimensions["B"].width = 16


def _notes_sheet(ws: Worksheet, report: Report) -> None:
    ws["A1"] = "Definitions and data notes"
    ws["A1"].font = Font(bold=True, size=13)
    r = 2
    for text in report.notes:
        _write(ws, r, 1, text)
        ws.cell(row=r, column=1).alignment = Alignment(wrap_text=True, vertical="top")
        r += 1
    r += 1
    _write(ws, r, 1, "Sources and attribution")
    ws.cell(row=r, column=1).font = Font(bold=True)
    for text in report.sources:
        r += 1
        _write(ws, r, 1, text)
        ws.cell(row=r, column=1).alignment = Alignment(wrap_text=True, vertical="top")
    r += 2
    _write(ws, r, 1, f"Generated {report.generated:%d %B %Y %H:%M}")
    ws.column_dimensions["A"].width = 120
