"""The coverage model's area layers (its table areas, postcode sectors, grid squares): which
children and carers are in each area, kept in step with what-if edits."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


class AreaLayer:
    """Area ids of one kind: children's areas are fixed, carers' grow with what-if edits."""

    def __init__(self, kind: str, child_codes: np.ndarray, carer_codes: np.ndarray) -> None:
        self.kind = kind
        self.codes: list[str] = []
        self.index: dict[str, int] = {}
        self.child_area = self.ids(child_codes)
        self.carer_area = self.ids(carer_codes)
        self.reach = np.zeros(len(self.codes), dtype=np.int64)

    def ids(self, codes: Iterable[str]) -> np.ndarray:
        out = []
        for code in codes:
            i = self.index.get(code)
            if i is None:
                i = self.index[code] = len(self.codes)
                self.codes.append(code)
            out.append(i)
        return np.asarray(out, dtype=np.int64)

    def add_carer(self, code: str) -> None:
        before = len(self.codes)
        self.carer_area = np.append(self.carer_area, self.ids([code]))
        if len(self.codes) > before:
            self.reach = np.append(self.reach, np.zeros(len(self.codes) - before, np.int64))

    @property
    def n(self) -> int:
        return len(self.codes)

    def code_array(self) -> np.ndarray:
        return np.array(self.codes, dtype=object)

    def code_rank(self) -> np.ndarray:
        """Position of each area id in sorted order (for deterministic tie-breaks)."""
        order = np.argsort(np.array(self.codes, dtype=str), kind="stable")
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        return rank
