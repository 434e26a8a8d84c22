"""The validation report: per input file (or sheet), what it was recognised as and how its rows
were used — ``rows_read = rejected + merged duplicates + used`` and, for placement rows,
``used = in census + not current``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from geo.ssda903 import PLACEMENT_ROLES, Census, PlacementData


@dataclass(frozen=True)
class ValidationReport:
    """Per-file rows and the reconciliation of placement rows for one census.

    ``files`` has one row per input table: ``file, format, role, return, rows_read,
    rows_rejected, rows_merged_duplicate, rows_used, in_census, not_current, reconciles,
    reject_reasons, note``. ``totals`` sums the placement tables (``read, in_census,
    not_current, not_current_detail, rejected, merged_duplicates, reconciles``).
    """

    files: pd.DataFrame
    totals: dict[str, Any]
    returns: list[dict[str, Any]]

    @property
    def reconciles(self) -> bool:
        return bool(self.totals["reconciles"])

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (for ``summary.json`` and the app)."""
        records = []
        for row in self.files.to_dict(orient="records"):
            record = {k: _plain(v) for k, v in row.items()}
            for key in _COUNTS:  # counts stay whole numbers (a float column holds None too)
                value = record.get(key)
                if isinstance(value, float):
                    record[key] = int(value) if value == value else None  # NaN -> None
            records.append(record)
        return {"files": records, "totals": self.totals, "returns": self.returns}


_COUNTS = (
    "rows_read",
    "rows_rejected",
    "rows_merged_duplicate",
    "rows_used",
    "in_census",
    "not_current",
)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if value is None or (not isinstance(value, (str, bool, int, float)) and pd.isna(value)):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def validation_report(data: PlacementData, census: Census) -> ValidationReport:
    """What each input file was recognised as and how its rows were used in ``census``.

    Rows read = rejected + merged duplicates + used, per file; placement rows used = in census +
    not current. ``reconciles`` is False when any file's counts do not add up.
    """
    used = {
        role: frame["_file"].value_counts() if "_file" in frame.columns else pd.Series(dtype=int)
        for role, frame in (
            ("episodes", data.episodes),
            ("child", data.episodes),
            ("header", data.children),
            ("uasc", data.uasc),
        )
    }
    in_census = census.children["_file"].value_counts()
    rows = []
    for s in data.sources:
        placement = s.role in PLACEMENT_ROLES
        n_used = int(used[s.role].get(s.file, 0)) if s.role in used else 0
        n_census = int(in_census.get(s.file, 0)) if placement else None
        accounted = s.rows_rejected + s.rows_merged + n_used + s.rows_other_authority
        ok = s.role == "ignored" or s.rows_read == accounted
        rows.append(
            {
                "file": s.file,
                "format": s.format,
                "role": s.role,
                "return": s.return_label,
                "rows_read": s.rows_read,
                "rows_rejected": s.rows_rejected,
                "rows_merged_duplicate": s.rows_merged,
                "rows_other_authority": s.rows_other_authority,
                "other_authorities": dict(s.other_authorities),
                "rows_used": n_used if s.role != "ignored" else 0,
                "in_census": n_census,
                "not_current": n_used - n_census if n_census is not None else None,
                "reconciles": ok,
                "reject_reasons": dict(s.reject_reasons),
                "note": s.note,
            }
        )
    files = pd.DataFrame(
        rows,
        columns=[
            "file",
            "format",
            "role",
            "return",
            "rows_read",
            "rows_rejected",
            "rows_merged_duplicate",
            "rows_other_authority",
            "other_authorities",
            "rows_used",
            "in_census",
            "not_current",
            "reconciles",
            "reject_reasons",
            "note",
        ],
    )
    placements = files[files["role"].isin(PLACEMENT_ROLES)]
    read = int(placements["rows_read"].sum())
    n_census = int(len(census.children))
    not_current = int(sum(census.not_current.values()))
    rejected = int(placements["rows_rejected"].sum())
    merged = int(placements["rows_merged_duplicate"].sum())
    other = int(placements["rows_other_authority"].sum())
    other_by_la: dict[str, int] = {}
    for by_la in placements["other_authorities"]:
        for la, n in dict(by_la).items():
            other_by_la[la] = other_by_la.get(la, 0) + int(n)
    totals = {
        "read": read,
        "in_census": n_census,
        "not_current": not_current,
        "not_current_detail": dict(census.not_current),
        "rejected": rejected,
        "merged_duplicates": merged,
        "other_authority": other,
        "other_authorities": dict(sorted(other_by_la.items())),
        "reconciles": bool(
            read == n_census + not_current + rejected + merged + other and files["reconciles"].all()
        ),
    }
    returns = [
        {
            "label": r.label,
            "rank": r.rank,
            "data_end": r.data_end.isoformat() if r.data_end else None,
            "files": list(r.files),
        }
        for r in data.returns
    ]
    return ValidationReport(files=files, totals=totals, returns=returns)
