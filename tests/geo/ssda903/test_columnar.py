"""The columnar CSV reader (pyarrow) gives the very table the row-by-row reader gives: same
values, same spreadsheet row numbers, same rejected rows; files it cannot read exactly go to
the row-by-row reader."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd
import pytest

from geo.errors import InputError
from geo.ssda903.columnar import OTHER_SPACE, read_rows
from geo.ssda903.tables import RawTable, parse_csv_text, read_csv_text

CONFORMANCE = Path(__file__).resolve().parents[2] / "fixtures" / "conformance"
HEAD = "CHILD,DECOM,HOME_POST,PL_POST\n"

# name -> file bytes: every rule of parse_csv_text, each in a small file.
TRICKY: dict[str, bytes] = {
    "plain": (HEAD + "1,01/04/2020,ME14 1XQ,TN1 1AA\n2,02/04/2020,CT1 1AA,DA1 1AA\n").encode(),
    "no final line end": (HEAD + "1,01/04/2020,ME14 1XQ,TN1 1AA").encode(),
    "crlf": (HEAD + "1,01/04/2020,ME14 1XQ,TN1 1AA\r\n2,x,y,z\r\n").replace("\n", "\r\n").encode(),
    "lone cr": (HEAD.replace("\n", "\r") + "1,01/04/2020,a,b\r2,x,y,z\r").encode(),
    "mixed line ends": (HEAD + "1,a,b,c\r\n\r\n2,d,e,f\r3,g,h,i\n\n\n4,j,k,l\n").encode(),
    "blank lines": (HEAD + "\n1,a,b,c\n\n\n2,d,e,f\n\n").encode(),
    "blank fields only": (HEAD + "1,a,b,c\n,,,\n , ,\t, \n2,d,e,f\n").encode(),
    "spaces and tabs": (HEAD + "  1 ,\t01/04/2020 , me14 1xq,TN1 1AA  \n").encode(),
    "short row": (HEAD + "1,01/04/2020,ME14 1XQ\n2,a,b,c\n3\n").encode(),
    "long row, blank extras": (HEAD + "1,a,b,c,,\n2,d,e,f, ,\t\n").encode(),
    "long row with values": (HEAD + "1,a,b,c\n2,d,e,f,g\n3,h,i,j\n").encode(),
    "quoted fields": (HEAD + '1,"01/04/2020","ME14, 1XQ",x\n"2",a,"b ""c""",d\n').encode(),
    "newline in quotes": (HEAD + '1,a,"b\nc",d\n2,e,f,g\n').encode(),
    "semicolons": b"CHILD;DECOM;HOME_POST;PL_POST\n1;01/04/2020;ME14 1XQ;TN1 1AA\n2;a;b;c\n",
    "tabs": b"CHILD\tDECOM\tHOME_POST\tPL_POST\n1\t01/04/2020\tME14 1XQ\tTN1 1AA\n",
    "pipes": b"CHILD|DECOM|HOME_POST|PL_POST\n1|01/04/2020|ME14 1XQ|TN1 1AA\n2|a|b|c\n",
    "utf-8 bom": "\ufeffCHILD,DECOM,HOME_POST,PL_POST\n1,é,ü,ß\n".encode(),
    "cp1252": "CHILD,DECOM,HOME_POST,PL_POST\n1,café,x,£5\n".encode("cp1252"),
    "non-breaking space": (HEAD + "1,\xa0a\xa0,b,c\n").encode(),
    "unicode line separator": (HEAD + "1,a\u2028b,c,d\n").encode(),
    "lower-case header": b"child,decom,home_post,pl_post\n1,a,b,c\n",
    "blank column names": b"CHILD,,DECOM,\n1,a,b,c\n",
    "header with spaces": b" CHILD , DECOM ,HOME_POST,PL_POST\n1,a,b,c\n",
    "header only": HEAD.encode(),
    "only blank rows": (HEAD + ",,,\n\n").encode(),
    "blank first line": ("\n" + HEAD + "1,a,b,c\n").encode(),
    "one column": b"CHILD\n1\n2\n",
    "duplicate columns": b"CHILD,CHILD,X\n1,2,3\n",
    "NUL past the sniffed bytes": (HEAD + "1,a,b,c\n" * 9000 + "2,d\x00,e,f\n").encode(),
    "field over the csv limit": (HEAD + "1," + "a" * 140_000 + ",b,c\n").encode(),
}


def _read(path: Path, *, columnar: bool) -> RawTable | str:
    try:
        return read_csv_text(path, what="placements file", columnar=columnar)
    except InputError as err:
        return f"InputError: {err}"


def _same(fast: RawTable | str, slow: RawTable | str) -> None:
    if isinstance(slow, str) or isinstance(fast, str):
        assert fast == slow
        return
    pd.testing.assert_frame_equal(fast.frame, slow.frame)
    assert fast.bad_rows == slow.bad_rows
    assert fast.encoding == slow.encoding


@pytest.mark.parametrize("name", list(TRICKY))
def test_tricky_files_read_the_same_either_way(tmp_path: Path, name: str) -> None:
    path = tmp_path / "episodes.csv"
    path.write_bytes(TRICKY[name])
    _same(_read(path, columnar=True), _read(path, columnar=False))


def test_the_columnar_reader_answers_for_plain_files_only() -> None:
    def fast(name: str, width: int = 4) -> bool:
        data = TRICKY[name]
        text = data.decode("utf-8-sig")
        return (
            read_rows(text, delimiter=";" if name == "semicolons" else ",", width=width) is not None
        )

    for name in ("plain", "crlf", "lone cr", "mixed line ends", "blank fields only", "semicolons"):
        assert fast(name), name
    for name in ("short row", "long row, blank extras", "quoted fields", "newline in quotes"):
        assert not fast(name), name
    for name in ("non-breaking space", "unicode line separator", "NUL past the sniffed bytes"):
        assert not fast(name), name


def test_row_numbers_are_the_lines_a_spreadsheet_shows(tmp_path: Path) -> None:
    path = tmp_path / "episodes.csv"
    path.write_bytes(TRICKY["mixed line ends"])
    table = read_csv_text(path, what="placements file")
    assert table.frame["_row"].tolist() == [2, 4, 5, 8]
    assert table.frame["CHILD"].tolist() == ["1", "2", "3", "4"]


def test_every_conformance_csv_reads_the_same_either_way() -> None:
    files = sorted(CONFORMANCE.rglob("*.csv"))
    assert len(files) >= 15
    for path in files:
        _same(_read(path, columnar=True), _read(path, columnar=False))


def test_other_space_lists_every_whitespace_python_strips() -> None:
    pattern = re.compile(f"[{OTHER_SPACE}]")
    listed = {c for c in range(sys.maxunicode + 1) if pattern.match(chr(c))}
    python = {c for c in range(sys.maxunicode + 1) if chr(c).isspace()} - {9, 10, 13, 32}
    assert listed == python


def test_a_large_plain_file_is_read_the_same(tmp_path: Path) -> None:
    rows = "".join(f"{i},{i % 28 + 1:02d}/04/2020, ME{i % 20} {i % 9}XQ ,\n" for i in range(20_000))
    path = tmp_path / "episodes.csv"
    path.write_bytes((HEAD + rows).encode())
    text = path.read_text()
    assert read_rows(text, delimiter=",", width=4) is not None
    _same(_read(path, columnar=True), _read(path, columnar=False))


def test_parse_csv_text_keeps_its_own_messages() -> None:
    with pytest.raises(InputError, match="header row but no data rows"):
        parse_csv_text(HEAD + ",,,\n", path=Path("e.csv"), what="placements file")
