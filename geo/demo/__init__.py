"""Synthetic children-in-care data calibrated to published figures: no real person in it.

:func:`demo_dataset` builds SSDA903 Episodes, Header and UASC tables plus a carers register
(DESIGN.md §4-§5) from real postcodes (ONSPD via :mod:`geo.spatial.postcodes`) and the targets in
``data/demo/recipe.json``: for Kent (``scale="kent"``) the December 2018 figures of DESIGN.md §7,
for England (``scale="national"``) a benchmark-sized set. It is pure: it returns frames.
:func:`write_demo` writes them (atomically) and :func:`ensure_demo` keeps one generated copy in
the user cache for the app.

The generator runs in stages, each a module: the carers register (:mod:`~geo.demo.carers`), the
children in care and where they are placed (:mod:`~geo.demo.children`, foster children matched
to vacant places by :mod:`~geo.demo.foster`), the children who left care from a stated
entry-and-stay process (:mod:`~geo.demo.leavers`), six years of episode history with the Header
and UASC tables (:mod:`~geo.demo.episodes`) and, for the ``messy`` variant, deliberate faults
(:mod:`~geo.demo.faults`). They share one :class:`~geo.demo.synthetic.DemoGenerator` (random
streams, dates, postcode pools) and the helpers of :mod:`~geo.demo.sampling` and
:mod:`~geo.demo.pools`; :mod:`~geo.demo.dataset` runs them in order.
"""

from geo.demo.dataset import (
    CARER_FILE_COLUMNS,
    DEMO_FILES,
    EPISODE_FILE_COLUMNS,
    HEADER_FILE_COLUMNS,
    UASC_FILE_COLUMNS,
    DemoData,
    demo_cache_root,
    demo_dataset,
    ensure_demo,
    write_demo,
)
from geo.demo.faults import FAULT_COLUMNS
from geo.demo.recipe import DEMO_VERSION, SCALES, load_recipe

__all__ = [
    "CARER_FILE_COLUMNS",
    "DEMO_FILES",
    "DEMO_VERSION",
    "EPISODE_FILE_COLUMNS",
    "FAULT_COLUMNS",
    "HEADER_FILE_COLUMNS",
    "SCALES",
    "UASC_FILE_COLUMNS",
    "DemoData",
    "demo_cache_root",
    "demo_dataset",
    "ensure_demo",
    "load_recipe",
    "write_demo",
]
