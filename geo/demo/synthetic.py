"""The synthetic generator's state: random streams, dates and postcode pools.

The stages are functions of a :class:`DemoGenerator`, run in this order by
:func:`geo.demo.demo_dataset`: the carers register (:mod:`geo.demo.carers`), the children in care
and where they are placed (:mod:`geo.demo.children`, foster children matched to vacant places by
:mod:`geo.demo.foster`), their episode histories and the Header and UASC tables
(:mod:`geo.demo.episodes`), then the register as a table. Each stage draws from its own random
stream, so the output for a seed depends only on the order of draws within a stage.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import numpy as np

from geo.demo.pools import Pool
from geo.demo.sampling import DAY
from geo.spatial import postcodes as pc
from geo.spatial.authority import load_authority


class DemoGenerator:
    """What every stage shares for one ``scale`` and ``seed``: the recipe and its section for
    the scale (``cfg``), one random stream per stage, the as-at date and the start of the history
    window, the postcode pools (homes, regions, near and far), and ``facts`` the stages record
    for the README and the CLI summary."""

    def __init__(self, recipe: Mapping[str, Any], *, scale: str, seed: int) -> None:
        self.recipe = recipe
        self.scale = scale
        self.cfg: Mapping[str, Any] = recipe[scale]
        ss = np.random.SeedSequence(seed)
        # Spawned children depend only on their position, so a stream added at the end leaves
        # the draws of the others (and the files they make) as they were.
        streams = ss.spawn(9)
        self.rng_carers, self.rng_children, self.rng_types, self.rng_far = (
            np.random.default_rng(s) for s in streams[:4]
        )
        self.rng_place, self.rng_history, self.rng_leavers, self.rng_text = (
            np.random.default_rng(s) for s in streams[4:8]
        )
        self.rng_register = np.random.default_rng(streams[8])
        self.as_at_date = date.fromisoformat(recipe["as_at"])
        self.as_at = np.datetime64(self.as_at_date, "D")
        years = int(recipe["history_years"])
        start = date(self.as_at_date.year - years, self.as_at_date.month, self.as_at_date.day)
        self.window_start = np.datetime64(start, "D") + DAY
        self.facts: dict[str, Any] = {}
        self._load_pools()

    # -- geography -----------------------------------------------------------------------------
    def _load_pools(self) -> None:
        regions = self.recipe["regions"]
        if self.scale == "kent":
            table = pc.reference_table(self.recipe["postcode_letters_kent"])
            allp = Pool.from_table(table)
            authority = load_authority(self.cfg["authority"])
            self.homes = allp.take(allp.in_codes(authority.district_codes))
            group_of = {c: authority.group_of(c) or "" for c in authority.district_codes}
            self.group_of_district = group_of
            self.home_group = np.array([group_of[d] for d in self.homes.district], dtype=object)
            # Regions for placements away from home; "afield" is everything else loaded.
            self.regions = {
                name: allp.take(allp.in_codes(codes)) for name, codes in regions.items()
            }
            listed = np.zeros(len(allp), bool)
            for codes in regions.values():
                listed |= allp.in_codes(codes)
            self.regions["afield"] = allp.take(~listed)
            self.regions["kent"] = self.homes
            # Near placements snap to postcodes within reach of Kent (a box around the county).
            box = (
                (allp.e > self.homes.e.min() - 40_000)
                & (allp.e < self.homes.e.max() + 40_000)
                & (allp.n > self.homes.n.min() - 40_000)
                & (allp.n < self.homes.n.max() + 40_000)
            )
            self.near_pool = allp.take(box)
            self.far_pool = self.regions["kent_medway"]
        else:
            allp = Pool.from_table(pc.all_postcodes())
            self.homes = allp
            self.home_group = np.full(len(allp), "", dtype=object)
            self.regions = {"afield": allp}
            # A uniform subsample keeps postcode density and builds its index in a fraction of
            # the time of all 2.4 million points.
            sub = np.sort(
                self.rng_place.choice(len(allp), size=min(len(allp), 400_000), replace=False)
            )
            self.near_pool = allp.take(sub)
            self.far_pool = self.near_pool
