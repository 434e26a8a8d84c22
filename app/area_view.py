"""What an area filter (West / North / East Kent) changes in a page's words and map: the name
on the cards and the total row, and which districts are drawn as outside the area."""

from __future__ import annotations

import pandas as pd

from geo.spatial import Authority


def area_codes(authority: Authority, group: str | None) -> list[str]:
    """The district codes of the area ``group`` (all the authority's districts for "all" or a
    name the authority does not define), in configuration order."""
    if group and group != "all" and group in authority.groups:
        chosen = set(authority.groups[group])
        return [c for c in authority.district_codes if c in chosen]
    return list(authority.district_codes)


def area_name(authority: Authority, group: str | None) -> str:
    """The name the cards and the total row use: the area's ("West Kent") when one is chosen,
    else the authority's ("Kent")."""
    if group and group != "all" and group in authority.groups:
        return group
    return authority.name


def outside_area(authority: Authority, group: str | None) -> list[str]:
    """The authority's districts outside the chosen area (none when no area is chosen)."""
    inside = set(area_codes(authority, group))
    return [c for c in authority.district_codes if c not in inside]


def relabel_total(table: pd.DataFrame, authority: Authority, group: str | None) -> pd.DataFrame:
    """``table`` (with ``is_total`` and ``district_name``) with its total row named for the
    area ("West Kent total") instead of the authority."""
    if area_name(authority, group) == authority.name or "is_total" not in table:
        return table
    t = table.copy()
    t.loc[t["is_total"].astype(bool), "district_name"] = f"{area_name(authority, group)} total"
    return t
