"""Read the DfE SSDA903 XML return as filed (root ``EXPSSDA903``), safely and in one pass.

One ``CHILD`` per child holds a ``HEADER`` (``CHILDID, UPN, SEX, DOB, ETHNIC, UASC, DUC, MOTHER,
MC_DOB``) and its ``EPISODE`` elements (``DECOM, RNE, LS, CIN, PL, PL_POST, HOME_POST, URN,
PLACE_PROVIDER, DEC, REC, REASON_PLACE_CHANGE``). The result is two text tables with the CSV
column names (``CHILDID`` → ``CHILD``, ``PL`` → ``PLACE``), so XML and CSV go through the same
validation.

Safety: the file is parsed by :mod:`defusedxml` with DTDs, entity declarations and external
references forbidden (so "billion laughs" and ``file:///etc/passwd`` entities are refused, and
nothing is fetched), streamed in chunks without building a tree, and refused above a size limit
(``max_mb``, default 200 MB; the app passes ``PLACEMAP_MAX_XML_MB``).

Structure problems inside an element (a field given twice, a field with nested elements, a
second ``HEADER``) do not stop the read: the row carries a ``_problem`` and is rejected later,
located by child id and source line (``_where``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.parsers.expat import ErrorString, ExpatError

import pandas as pd
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from geo.errors import InputError
from geo.ssda903.spec import DEFAULT_MAX_MB
from geo.ssda903.tables import RawTable

ROOT = "EXPSSDA903"
HEADER_FIELDS = ("CHILDID", "UPN", "SEX", "DOB", "ETHNIC", "UASC", "DUC", "MOTHER", "MC_DOB")
EPISODE_FIELDS = (
    "DECOM",
    "RNE",
    "LS",
    "CIN",
    "PL",
    "PL_POST",
    "HOME_POST",
    "URN",
    "PLACE_PROVIDER",
    "DEC",
    "REC",
    "REASON_PLACE_CHANGE",
)
# XML element name -> CSV (table) column name; the reverse names rejects in XML terms.
_HEADER_SET = frozenset(HEADER_FIELDS)
_EPISODE_SET = frozenset(EPISODE_FIELDS)
RENAME = {"CHILDID": "CHILD", "PL": "PLACE"}
SOURCE_NAMES = {v: k for k, v in RENAME.items()}
# The setting named in the size message; app/settings.py reads it and passes ``max_mb`` down.
MAX_MB_ENV = "PLACEMAP_MAX_XML_MB"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class XmlReturn:
    """The two tables of one XML return. ``_row`` is the source line of the element's start tag;
    ``_where`` says which child and element a row came from."""

    path: Path
    header: RawTable
    episodes: RawTable


def _local(tag: str) -> str:
    """Element name without a namespace (expat gives ``uri}CHILD`` for ``{uri}CHILD``)."""
    return tag.rsplit("}", 1)[-1] if "}" in tag else tag


class _Collector:
    """Expat handlers that keep only the leaf fields of HEADER and EPISODE elements.

    Memory stays proportional to the rows kept, not to the document: no element tree is built.
    Depths: 0 root, 1 CHILD, 2 HEADER/EPISODE, 3 a field, 4+ anything nested in a field.
    """

    def __init__(self, path: Path, line: Callable[[], int]) -> None:
        self.path = path
        self.line = line
        self.depth = 0
        self.root: str | None = None
        self.headers: list[dict[str, Any]] = []
        self.episodes: list[dict[str, Any]] = []
        self._in_child = False
        self._child_line = 0
        self._child_headers: list[dict[str, Any]] = []
        self._child_episodes: list[dict[str, Any]] = []
        self._record: dict[str, Any] | None = None
        self._fields: frozenset[str] = frozenset()
        self._field: str | None = None
        self._text: list[str] = []

    def start(self, tag: str, _attrs: object) -> None:
        depth = self.depth
        self.depth = depth + 1
        if depth == 3:
            if self._record is not None:
                name = _local(tag)
                if name in self._fields:
                    self._field, self._text = name, []
            return
        if depth > 3:
            if self._field is not None:
                self._record["_problems"].append(  # type: ignore[index]
                    (self._field, "has nested elements; expected a plain value")
                )
                self._field = None  # reported once; the element's text is not used
            return
        name = _local(tag)
        if depth == 2:
            if self._in_child and name in ("HEADER", "EPISODE"):
                self._record = {"_row": self.line(), "_problems": []}
                if name == "HEADER":
                    self._fields = _HEADER_SET
                    self._child_headers.append(self._record)
                else:
                    self._fields = _EPISODE_SET
                    self._child_episodes.append(self._record)
            return
        if depth == 1:
            if name == "CHILD":
                self._in_child, self._child_line = True, self.line()
                self._child_headers, self._child_episodes = [], []
            return
        self.root = name
        if name != ROOT:
            raise InputError(
                f"'{self.path.name}' is an XML file but not an SSDA903 return: its root "
                f"element is <{name}>, expected <{ROOT}>. Give the XML file exported for the "
                "DfE SSDA903 (children looked after) return, or CSV/XLSX tables."
            )

    def data(self, text: str) -> None:
        if self._field is not None:
            self._text.append(text)

    def end(self, _tag: str) -> None:
        self.depth -= 1
        depth = self.depth
        if depth == 3:
            field = self._field
            if field is not None:
                record = self._record
                assert record is not None
                if field in record:
                    record["_problems"].append((field, "appears more than once in the element"))
                else:
                    record[field] = "".join(self._text).strip()
                self._field = None
        elif depth == 2:
            self._record = None
        elif depth == 1 and self._in_child:
            self._finish_child()

    def _finish_child(self) -> None:
        self._in_child = False
        first = self._child_headers[0] if self._child_headers else None
        child_id = str(first.get("CHILDID", "")) if first is not None else ""
        label = (
            f"CHILD {child_id}"
            if child_id
            else f"CHILD element at line {self._child_line} (no CHILDID)"
        )
        if first is None:
            self.headers.append(
                {
                    "_row": self._child_line,
                    "_where": label,
                    "_problems": [("HEADER", "the CHILD element has no HEADER (so no CHILDID)")],
                }
            )
        for i, header in enumerate(self._child_headers):
            if i:
                header["_problems"].append(
                    ("HEADER", "second HEADER in the same CHILD; the first is used")
                )
            header["_where"] = f"{label}, HEADER at line {header['_row']}"
            self.headers.append(header)
        for episode in self._child_episodes:
            episode["CHILDID"] = child_id
            episode["_where"] = f"{label}, EPISODE at line {episode['_row']}"
            self.episodes.append(episode)


def _table(
    path: Path, records: list[dict[str, Any]], fields: tuple[str, ...], label: str
) -> RawTable:
    columns = {RENAME.get(f, f): [r.get(f, "") for r in records] for f in fields}
    frame = pd.DataFrame(columns, dtype="string")
    problems = [r.get("_problems") or [] for r in records]
    frame["_problem"] = pd.array(
        ["; ".join(f"{f} {why}" for f, why in p) if p else pd.NA for p in problems],
        dtype="string",
    )
    frame["_problem_column"] = pd.array([p[0][0] if p else pd.NA for p in problems], dtype="string")
    frame["_where"] = pd.array([str(r.get("_where", "")) for r in records], dtype="string")
    frame["_row"] = [int(r["_row"]) for r in records]
    return RawTable(
        path=path,
        frame=frame,
        bad_rows=[],
        encoding="xml",
        label=label,
        fmt="xml",
        source_names=dict(SOURCE_NAMES),
    )


def read_ssda903_xml(
    path: str | Path, *, max_mb: float = DEFAULT_MAX_MB, label: str | None = None
) -> XmlReturn:
    """Parse an SSDA903 XML return into Header and Episodes text tables.

    ``max_mb`` caps the file size in MB (default 200). Raises
    :class:`~geo.errors.InputError` for a missing, oversized, ill-formed or hostile file (DTD,
    entity declaration, external reference) and for a root other than ``EXPSSDA903``.
    ``label`` names the file in rejects (default: the file name).
    """
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as err:
        raise InputError(f"The XML return '{p}' could not be read: {err.strerror or err}.") from err
    if size > max_mb * 1024 * 1024:
        raise InputError(
            f"The XML return '{p.name}' is {size / 1024 / 1024:.0f} MB, above the "
            f"{max_mb:g} MB limit. Check it is the SSDA903 return, or raise {MAX_MB_ENV}."
        )
    parser = DefusedXMLParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    expat = parser.parser
    collector = _Collector(p, lambda: int(expat.CurrentLineNumber))
    # defusedxml's guards (DOCTYPE, entity declarations, external references) stay installed on
    # the expat parser; only the element handlers are ours, so no element tree is built.
    expat.StartElementHandler = collector.start
    expat.EndElementHandler = collector.end
    expat.CharacterDataHandler = collector.data
    try:
        with p.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                expat.Parse(chunk, False)
        expat.Parse(b"", True)
    except DefusedXmlException as err:
        raise InputError(
            f"The XML return '{p.name}' was refused: it declares a DTD, entities or external "
            f"references ({type(err).__name__}), which an SSDA903 return never needs and which "
            "can be used to attack the reader. Export the return again from the case-management "
            "system without a DOCTYPE."
        ) from err
    except ExpatError as err:
        raise InputError(
            f"The XML return '{p.name}' is not well-formed XML at line {err.lineno}, column "
            f"{err.offset + 1}: {ErrorString(err.code)}. Export the return again; a truncated "
            "or hand-edited file often causes this."
        ) from err
    except OSError as err:
        raise InputError(f"The XML return '{p}' could not be read: {err.strerror or err}.") from err
    name = label or p.name
    header = _table(p, collector.headers, HEADER_FIELDS, name)
    episodes = _table(p, collector.episodes, ("CHILDID", *EPISODE_FIELDS), name)
    return XmlReturn(path=p, header=header, episodes=episodes)
