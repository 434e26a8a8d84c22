"""Read tabular input files (CSV) robustly, keeping the file's row numbers for error reports.

Every value is read as text; nothing is evaluated. Rows whose field count does not match the
header are returned separately as rejects instead of stopping the read.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from geo.errors import InputError

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

    @property
    def name(self) -> str:
        return self.path.name


def _decode(raw: bytes, path: Path) -> tuple[str, str]:
    if b"\x00" in raw[:_SNIFF_BYTES]:
        raise InputError(
            f"{path.name} is not a text (CSV) file: it contains binary data. Export the table as "
            "CSV (comma-separated, UTF-8) and try again."
        )
    for enc in ENCODINGS:
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise InputError(  # pragma: no cover - cp1252 only fails on 5 unused bytes
        f"{path.name} could not be decoded as UTF-8 or Windows-1252 text. Save it as UTF-8 CSV."
    )


def read_csv_text(path: str | Path, *, what: str) -> RawTable:
    """Read a CSV file as text. Raises :class:`InputError` if unusable as a whole.

    ``what`` names the role of the file in messages (e.g. "placements file").
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
    return parse_csv_text(text, path=p, what=what, encoding=encoding)


def parse_csv_text(text: str, *, path: Path, what: str, encoding: str = "utf-8") -> RawTable:
    """Parse CSV ``text`` (see :func:`read_csv_text`)."""
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
    rows: list[list[str]] = []
    row_numbers: list[int] = []
    bad: list[tuple[int, str]] = []
    width = len(columns)
    try:
        for record in reader:
            line = reader.line_num
            if not record or all(not f.strip() for f in record):
                continue  # blank line: not a row
            if len(record) != width:
                # Trailing empty fields (Excel exports) are harmless; anything else is not.
                if len(record) > width and all(not f.strip() for f in record[width:]):
                    record = record[:width]
                else:
                    bad.append((line, f"has {len(record)} fields, the header has {width}"))
                    continue
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


def require_columns(table: RawTable, required: list[str], *, what: str) -> None:
    """Raise :class:`InputError` naming the missing and the found columns."""
    missing = [c for c in required if c not in table.frame.columns]
    if missing:
        found = [c for c in table.frame.columns if c != "_row"]
        raise InputError(
            f"The {what} '{table.name}' is missing required column(s) {missing}. Columns found: "
            f"{found}. Expected at least {required} (DfE SSDA903 names)."
        )
