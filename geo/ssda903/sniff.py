"""The one recogniser of input files and tables, by content (never by name or extension).

* :func:`file_kind` — what a file's bytes are: the SSDA903 XML return, an Excel workbook (its
  zip directory checked against zip bombs before anything is unpacked), CSV text, or something
  refused (an archive, a database, a program, binary data) with a message saying what it is;
* :func:`recognise` — what a table is from its column names: SSDA903 Episodes, one row per
  child, Header, UASC, or a carers register;
* :func:`header_columns` — the column names of a CSV's first line, whatever its delimiter.

Readers (:mod:`geo.ssda903.read`, :mod:`geo.ssda903.carers`) and the app's uploads and folders
all ask these functions, so a file is recognised the same way wherever it comes in.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from dataclasses import replace
from enum import StrEnum
from pathlib import Path

from geo.errors import InputError
from geo.ssda903.spec import DEFAULT_MAX_MB, TABLE_BY_ROLE, TABLES
from geo.ssda903.tables import ENCODINGS, RawTable

XLSX_MAGIC = b"PK\x03\x04"
XLSX_MAX_RATIO = 100  # unpacked / packed: above this the archive is a zip bomb, not a workbook
SNIFF_BYTES = 64 * 1024


class FileKind(StrEnum):
    XML = "xml"  # the DfE SSDA903 XML return (root EXPSSDA903)
    XLSX = "xlsx"
    TEXT = "csv"


# Leading bytes of formats that are never a table placemap reads, and what to call them.
_MAGIC = {
    b"PK\x03\x04": "a zip archive (not an Excel .xlsx workbook)",
    b"\x1f\x8b": "a gzip archive",
    b"BZh": "a bzip2 archive",
    b"\xfd7zXZ\x00": "an xz archive",
    b"\x28\xb5\x2f\xfd": "a zstandard archive",
    b"\x04\x22\x4d\x18": "an lz4 archive",
    b"\x1f\x9d": "a compress (.Z) archive",
    b"SQLite format 3": "an SQLite database",
    b"\x80\x04\x95": "a Python pickle",
    b"\x80\x05\x95": "a Python pickle",
    b"\xd0\xcf\x11\xe0": "an old Office document (.xls)",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"7z\xbc\xaf": "a 7-zip archive",
    b"Rar!": "a RAR archive",
    b"\x7fELF": "a program",
    b"MZ": "a Windows program",
}


def looks_like_xml(head: bytes) -> bool:
    """True when ``head`` (the first bytes of a file) starts like an XML document."""
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        if head.startswith(bom):
            head = head[len(bom) :]
            break
    if head[:2] in (b"<\x00", b"\x00<"):  # UTF-16 without a BOM
        return True
    return head.lstrip()[:1] == b"<"


def is_ssda903_xml(head: bytes) -> bool:
    """The DfE SSDA903 XML return (root ``EXPSSDA903`` in the first 64 KB), UTF-8 or UTF-16."""
    head = head[:SNIFF_BYTES]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", errors="ignore").encode("utf-8")
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") and b"EXPSSDA903" in head


def is_xlsx(source: Path | bytes, *, name: str = "", max_mb: float = DEFAULT_MAX_MB) -> bool:
    """True when ``source`` (a path or the file's bytes) is an Excel workbook.

    Only the zip's central directory is read; nothing is decompressed. A workbook that would
    unpack to more than ``max_mb`` MB, or more than :data:`XLSX_MAX_RATIO` times its packed
    size (as a whole or any member over 1 MB), raises :class:`InputError` (a zip bomb guard).
    A zip that is not a workbook, or not a readable zip, is False.
    """
    if isinstance(source, bytes):
        if not source.startswith(XLSX_MAGIC):
            return False
        opened: Path | io.BytesIO = io.BytesIO(source)
    else:
        try:
            with source.open("rb") as fh:
                if not fh.read(4).startswith(XLSX_MAGIC):
                    return False
        except OSError:
            return False
        opened = source
        name = name or source.name
    try:
        with zipfile.ZipFile(opened) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return False
    if "xl/workbook.xml" not in {i.filename for i in infos}:
        return False
    unpacked = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    # The ratio of each member on its own too: padding the archive with stored (uncompressed)
    # members must not hide one sheet packed hundreds of times (members under 1 MB cannot matter).
    ratio = max(
        [unpacked / packed]
        + [i.file_size / max(1, i.compress_size) for i in infos if i.file_size > 1024 * 1024]
    )
    if unpacked > max_mb * 1024 * 1024 or ratio > XLSX_MAX_RATIO:
        raise InputError(
            f"The workbook '{name or 'upload'}' unpacks to {unpacked / 1024 / 1024:.0f} MB "
            f"(up to {ratio:.0f} times its packed size), above the {max_mb:g} MB / "
            f"{XLSX_MAX_RATIO}:1 limits for a workbook. Save each table as CSV instead, or "
            "raise PLACEMAP_MAX_XML_MB."
        )
    return True


def file_kind(
    head: bytes,
    *,
    name: str,
    what: str = "file",
    source: Path | bytes | None = None,
    max_mb: float = DEFAULT_MAX_MB,
) -> FileKind:
    """What a file is, from its first bytes ``head`` (and, for a zip, ``source``: the path or
    the whole bytes, so the workbook's directory can be checked). ``what`` names the file's role
    in messages ("placements file", "upload"); ``max_mb`` caps a workbook's unpacked size.

    Raises :class:`InputError` naming what the file is when it is not a table placemap reads
    (an archive, a database, a program, binary data), or a zip bomb posing as a workbook.
    """
    if is_ssda903_xml(head) or looks_like_xml(head):
        return FileKind.XML
    if head.startswith(XLSX_MAGIC) and is_xlsx(
        source if source is not None else head, name=name, max_mb=max_mb
    ):
        return FileKind.XLSX
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            raise InputError(
                f"The {what} '{name}' is {kind}, not a CSV text file. Export each table as CSV "
                "(comma-separated, UTF-8), or save the workbook as .xlsx, and try again."
            )
    sample = head[:SNIFF_BYTES]
    controls = sum(sample.count(bytes([c])) for c in range(32) if c not in (9, 10, 12, 13))
    if b"\x00" in sample or controls > len(sample) // 100:
        raise InputError(
            f"The {what} '{name}' contains binary data, not CSV text. Export the table as CSV "
            "(comma-separated, UTF-8), or save it as .xlsx, and try again."
        )
    return FileKind.TEXT


def header_columns(head: bytes) -> list[str]:
    """Upper-cased column names of the first line of CSV text (comma, semicolon, tab or pipe)."""
    text = ""
    for enc in ENCODINGS:
        try:
            text = head[:SNIFF_BYTES].decode(enc)
            break
        except UnicodeDecodeError:
            continue
    lines = text.splitlines()
    if not lines:
        return []
    first = lines[0]
    try:
        delimiter = csv.Sniffer().sniff(first, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    row = next(csv.reader([first], delimiter=delimiter), [])
    return [c.strip().upper() for c in row]


# Column names a table is recognised by (after upper-casing and stripping).
ALIASES = {"CHILDID": "CHILD", "PL": "PLACE"}  # XML element names used as CSV headers


def recognise(columns: Sequence[str]) -> str | None:
    """The role of a table from its column names (:data:`geo.ssda903.spec.TABLES`):
    ``episodes`` (SSDA903 Episodes), ``child`` (one row per child), ``header``, ``uasc``,
    ``carers`` (a carers register), one of the return's other tables (``missing``,
    ``reviews``, ``oc2``, ``oc3``, ``ad1``, ``placed_for_adoption``, ``previous_permanence``,
    ``sw_episodes``: :data:`~geo.ssda903.spec.UNUSED_TABLES`), or None.

    A table is known by the columns only it has, so the Missing or Reviews table (``CHILD``,
    ``DOB``, ...) is never taken for the Header."""
    cols = {str(c).strip().upper().lstrip("\ufeff") for c in columns}
    cols |= {ALIASES[c] for c in cols if c in ALIASES}
    for table in TABLES:
        if not cols & table.signature:
            continue
        if table.role == "episodes":
            return placements_form(cols)
        if table.role in ("header", "uasc") and "CHILD" not in cols:
            continue
        return table.role
    return None


def describe_table(role: str | None) -> str:
    """How messages name a table: "the SSDA903 Missing table", "a carers register"."""
    if role is None:
        return "an unrecognised table"
    spec = TABLE_BY_ROLE.get("episodes" if role == "child" else role)
    if role == "carers":
        return "a carers register"
    return f"the SSDA903 {spec.title} table" if spec else f"a {role} table"


def placements_form(cols: set[str]) -> str:
    return "episodes" if "DECOM" in cols and ("LS" in cols or "RNE" in cols) else "child"


def apply_aliases(table: RawTable) -> RawTable:
    cols = set(table.frame.columns)
    rename = {a: c for a, c in ALIASES.items() if a in cols and c not in cols}
    if not rename:
        return table
    names = {**table.source_names, **{c: a for a, c in rename.items()}}
    return replace(table, frame=table.frame.rename(columns=rename), source_names=names)
