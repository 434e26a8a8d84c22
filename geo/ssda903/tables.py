"""Read tabular input files (CSV, XLSX) robustly, keeping the file's row numbers for error reports.

Every value is read as text; nothing is evaluated (XLSX formulas are never computed: a cell gives
the value Excel last saved, or blank). Rows whose field count does not match the header are
returned separately as rejects instead of stopping the read.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import pandas as pd

from geo.errors import InputError
from geo.ssda903.columnar import read_rows

ENCODINGS = ("utf-8-sig", "cp1252")
_SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class RawTable:
    """A text table read from ``path``: ``frame`` has upper-cased, stripped column names, string
    values and a ``_row`` column with the row number as a spreadsheet shows it (header = 1)."""

    path: Path
    frame: pd.DataFrame
    bad_rows: list[tuple[int, str]]  # (row, reason) for rows with the wrong number of fields
    encoding: str
    label: str | None = None  # how rejects name the table (default: the file name)
    fmt: str = "csv"  # csv | xlsx | xml
    sheet: str | None = None  # XLSX sheet name
    source_names: dict[str, str] = field(default_factory=dict)  # table column -> name in file
    year: str | None = None  # one year of a multi-year extract (YEAR column)
    set_aside: dict[str, int] = field(default_factory=dict)  # other authorities' rows, by LA

    @property
    def name(self) -> str:
        return self.label or self.path.name

    def source_name(self, column: str) -> str:
        """The column's name as the file spells it (e.g. ``PL`` in XML for ``PLACE``)."""
        return self.source_names.get(column, column)


def _decode(raw: bytes, path: Path) -> tuple[str, str]:
    if b"\x00" in raw[:_SNIFF_BYTES]:
        raise InputError(
            f"{path.name} is not a text (CSV) file nor an XLSX workbook: it contains binary data. "
            "Save it as .xlsx, or export the table as CSV (comma-separated, UTF-8), and try again."
        )
    for enc in ENCODINGS:
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise InputError(  # pragma: no cover - cp1252 only fails on 5 unused bytes
        f"{path.name} could not be decoded as UTF-8 or Windows-1252 text. Save it as UTF-8 CSV."
    )


def read_csv_text(path: str | Path, *, what: str, columnar: bool = True) -> RawTable:
    """Read a CSV file as text. Raises :class:`InputError` if unusable as a whole.

    ``what`` names the role of the file in messages (e.g. "placements file"); ``columnar``: see
    :func:`parse_csv_text`.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"The {what} '{p}' does not exist. Check the path and try again.")
    if p.is_dir():
        raise InputError(f"The {what} '{p}' is a folder, not a file. Give the CSV file itself.")
    try:
        raw = p.read_bytes()
    except OSError as err:
        raise InputError(f"The {what} '{p}' could not be read: {err.strerror or err}.") from err
    text, encoding = _decode(raw, p)
    return parse_csv_text(text, path=p, what=what, encoding=encoding, columnar=columnar)


def parse_csv_text(
    text: str, *, path: Path, what: str, encoding: str = "utf-8", columnar: bool = True
) -> RawTable:
    """Parse CSV ``text`` (see :func:`read_csv_text`). The data rows of most files are read by
    pyarrow's columnar reader (:mod:`geo.ssda903.columnar`, ``columnar=False`` turns it off);
    the files it cannot read exactly as this function's row-by-row reader does (quoted fields,
    rows of the wrong length, ...) are read row by row."""
    if not text.strip():
        raise InputError(f"The {what} '{path.name}' is empty: expected a header row and data rows.")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as err:
        raise InputError(f"The {what} '{path.name}' has no readable header row ({err}).") from err
    columns = [h.strip().upper() for h in header]
    if len(columns) < 2:
        raise InputError(
            f"The {what} '{path.name}' does not look like a CSV table: its first line has "
            f"{len(columns)} column ({header[:1]!r}). Expected comma-separated column names such "
            "as CHILD,DECOM,...,HOME_POST,PL_POST."
        )
    dupes = sorted({c for c in columns if columns.count(c) > 1 and c})
    if dupes:
        raise InputError(
            f"The {what} '{path.name}' has duplicate column names {dupes}. Each column must "
            "appear once."
        )
    width = len(columns)
    if columnar and reader.line_num == 1:  # a one-line header: try the columnar reader first
        fast = read_rows(text, delimiter=delimiter, width=width)
        if fast is not None:
            frame, numbers = fast
            frame.columns = pd.Index(columns)
            frame["_row"] = numbers
            return RawTable(path=path, frame=frame, bad_rows=[], encoding=encoding)
    rows: list[list[str]] = []
    row_numbers: list[int] = []
    bad: list[tuple[int, str]] = []
    try:
        for record in reader:
            line = reader.line_num
            if not record or all(not f.strip() for f in record):
                continue  # blank line: not a row
            if len(record) > width:
                # Trailing empty fields (Excel exports) are harmless; anything else is not.
                if all(not f.strip() for f in record[width:]):
                    record = record[:width]
                else:
                    bad.append((line, f"has {len(record)} fields, the header has {width}"))
                    continue
            elif len(record) < width:
                # A short row leaves its last columns blank, as spreadsheets and pandas read it
                # (exports drop empty trailing fields); a required column left blank is then
                # rejected by the row checks, naming the column.
                record = record + [""] * (width - len(record))
            rows.append(record)
            row_numbers.append(line)
    except csv.Error as err:
        raise InputError(
            f"The {what} '{path.name}' is not valid CSV near line {reader.line_num}: {err}."
        ) from err
    if not rows and not bad:
        raise InputError(f"The {what} '{path.name}' has a header row but no data rows.")
    frame = (
        pd.DataFrame(rows, columns=columns, dtype="string")
        if rows
        else pd.DataFrame({c: pd.Series(dtype="string") for c in columns})
    )
    frame = frame.apply(lambda s: s.str.strip())
    frame["_row"] = row_numbers
    return RawTable(path=path, frame=frame, bad_rows=bad, encoding=encoding)


def _cell_text(value: object) -> str:
    """A cell value as the text a CSV export would hold (dates ISO, whole numbers without .0)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_xlsx_tables(
    path: str | Path, *, what: str
) -> tuple[list[RawTable], list[tuple[str, str]]]:
    """Read every non-empty sheet of an XLSX workbook as a text table.

    The header is the first row with at least two filled cells; ``_row`` is the sheet row
    number. Opened read-only, values only. Returns ``(tables, skipped)`` where ``skipped`` lists
    ``(sheet, reason)`` for sheets without a table. Raises :class:`InputError` when the workbook
    cannot be opened. Check the workbook with :func:`geo.ssda903.sniff.is_xlsx` first (zip bomb
    caps).
    """
    import openpyxl  # imported here: only XLSX input needs it

    p = Path(path)
    try:
        book = openpyxl.load_workbook(p, read_only=True, data_only=True, keep_links=False)
    except Exception as err:  # openpyxl raises many types for damaged files
        raise InputError(
            f"The {what} '{p.name}' could not be opened as an XLSX workbook ({err}). Save it "
            "again from Excel as .xlsx, or export each table as CSV."
        ) from err
    tables: list[RawTable] = []
    skipped: list[tuple[str, str]] = []
    try:
        for sheet in book.worksheets:
            table, reason = _sheet_table(p, sheet)
            if table is None:
                skipped.append((sheet.title, reason))
            else:
                tables.append(table)
    finally:
        book.close()
    return tables, skipped


def _sheet_table(path: Path, sheet: object) -> tuple[RawTable | None, str]:
    header: list[str] | None = None
    header_row = 0
    rows: list[list[str]] = []
    row_numbers: list[int] = []
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):  # type: ignore[attr-defined]
        cells = [_cell_text(v) for v in values]
        if header is None:
            if sum(1 for c in cells if c) >= 2:
                header, header_row = [c.strip().upper() for c in cells], number
            continue
        if not any(cells):
            continue
        cells = (cells + [""] * len(header))[: len(header)]
        rows.append(cells)
        row_numbers.append(number)
    title = str(sheet.title)  # type: ignore[attr-defined]
    if header is None:
        return None, "no header row (a row with two or more filled cells)"
    keep = [i for i, c in enumerate(header) if c]
    columns = [header[i] for i in keep]
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if dupes:
        raise InputError(
            f"Sheet '{title}' of '{path.name}' has duplicate column names {dupes} in row "
            f"{header_row}. Each column must appear once."
        )
    if not rows:
        return None, f"header in row {header_row} but no data rows"
    frame = pd.DataFrame([[r[i] for i in keep] for r in rows], columns=columns, dtype="string")
    frame["_row"] = row_numbers
    return (
        RawTable(
            path=path,
            frame=frame,
            bad_rows=[],
            encoding="xlsx",
            label=f"{path.name}[{title}]",
            fmt="xlsx",
            sheet=title,
        ),
        "",
    )


def require_columns(
    table: RawTable, required: list[str], *, what: str, naming: str = "DfE SSDA903 names"
) -> None:
    """Raise :class:`InputError` naming the missing and the found columns (``naming``: where
    the expected column names come from)."""
    missing = [c for c in required if c not in table.frame.columns]
    if missing:
        found = [c for c in table.frame.columns if not str(c).startswith("_")]
        raise InputError(
            f"The {what} '{table.name}' is missing required column(s) {missing}. Columns found: "
            f"{found}. Expected at least {required} ({naming})."
        )
