"""The one recogniser (geo.ssda903.sniff): files by content, tables by columns, zip bombs refused
the same way whether a file is read from disk (CLI, folders) or uploaded (app)."""

from __future__ import annotations

import io
import zipfile

import pytest

from app.data import uploads
from geo.errors import InputError
from geo.ssda903 import FileKind, file_kind, header_columns, read_placements, recognise
from geo.ssda903.sniff import SNIFF_BYTES


def _bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", b"<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"0" * (8 * 1024 * 1024))
    return buf.getvalue()


def test_a_zip_bomb_workbook_is_refused_by_the_reader_and_the_upload_alike(tmp_path):
    raw = _bomb()
    path = tmp_path / "903.xlsx"
    path.write_bytes(raw)
    with pytest.raises(InputError, match="limits for a workbook"):
        read_placements(path)
    with pytest.raises(InputError, match="limits for a workbook"):
        uploads.guess_role("903.xlsx", raw)


@pytest.mark.parametrize(
    "header, role",
    [
        (
            "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN",
            "episodes",
        ),
        ("CHILD;HOME_POST;PL_POST", "child"),
        ("CHILD\tSEX\tDOB\tETHNIC\tUPN\tMOTHER\tMC_DOB", "header"),
        ("CHILD,SEX,DOB,DUC", "uasc"),
        ("CARER_ID,POSTCODE,STATUS,APPROVED_PLACES,OCCUPIED_PLACES,PROVIDER,CATEGORIES", "carers"),
        ("CHILDID,PL,DECOM,LS,HOME_POST,PL_POST", "episodes"),  # XML element names as headers
        ("NAME,ADDRESS", None),
    ],
)
def test_tables_are_recognised_once_for_files_and_uploads(tmp_path, header, role):
    raw = (header + "\n" + ",".join("x" for _ in header.split(",")) + "\n").encode()
    assert recognise(header_columns(raw)) == role
    upload_role = {"child": "episodes"}.get(role or "", role)
    if role is None:
        with pytest.raises(InputError, match="Could not tell"):
            uploads.guess_role("table.csv", raw)
    else:
        assert uploads.guess_role("table.csv", raw) == upload_role


@pytest.mark.parametrize(
    "raw, kind",
    [
        (b"\xef\xbb\xbf<?xml version='1.0'?><EXPSSDA903/>", FileKind.XML),
        ("<EXPSSDA903/>".encode("utf-16"), FileKind.XML),
        (b"CHILD,HOME_POST,PL_POST\n1,ME14 1XQ,CT1 2RX\n", FileKind.TEXT),
    ],
)
def test_file_kind(raw, kind):
    assert file_kind(raw[:SNIFF_BYTES], name="f", source=raw) is kind


@pytest.mark.parametrize(
    "raw, what",
    [(b"\x1f\x8b\x08\x00", "gzip archive"), (b"SQLite format 3\x00", "SQLite database")],
)
def test_refused_kinds_say_what_they_are(raw, what):
    with pytest.raises(InputError, match=what):
        file_kind(raw, name="f.csv", source=raw)
