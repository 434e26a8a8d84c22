"""The DfE-aligned 903 validator's distance step as a baseline for case 2.

``csc-validator-be-903`` (the validator the DfE's 903 return is checked with) derives
``PL_DISTANCE`` from the home and placement postcodes. It pins an old numpy and pandas, so it
gets its own virtual environment, ``benchmarks/.validator-venv`` (git-ignored), made on first use
by :func:`ensure_venv` with the ordinary ``venv`` and ``pip``: built in a temporary folder and
moved into place only once ``import lac_validator`` works, so a broken install is never reused.
When it cannot be made (no network, no wheel for this Python), the reason is returned and the
baseline row is skipped; the benchmark does not fail.

:func:`run_step` runs ``benchmarks/validator_step.py`` in that environment (a new process, as
``placemap analyse`` is timed) and :func:`compare` checks that the validator's distances are
placemap's to one decimal, child by child.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
VENV = HERE / ".validator-venv"
STEP = HERE / "validator_step.py"
PACKAGE = "csc-validator-be-903==0.1.17"  # the newest on PyPI when this row was added
INSTALL_TIMEOUT_S = 900


@dataclass(frozen=True)
class Environment:
    """The validator's interpreter, or why there is none (``python`` is None)."""

    python: Path | None
    reason: str = ""
    version: str = ""


def _python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _installed_version(python: Path) -> str | None:
    """The validator's version when ``python`` can import it, else None."""
    if not python.exists():
        return None
    done = subprocess.run(
        [
            str(python),
            "-c",
            "import lac_validator.datastore; from importlib.metadata import version; "
            "print(version('csc-validator-be-903'))",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else None


def ensure_venv(
    venv: Path = VENV, *, package: str = PACKAGE, base_python: str = sys.executable
) -> Environment:
    """The validator's own virtual environment, made on first use (see module docstring)."""
    wanted = package.split("==")[-1] if "==" in package else ""
    have = _installed_version(_python(venv))
    if have and (not wanted or have == wanted):
        return Environment(_python(venv), version=have)
    tmp = venv.with_name(venv.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    steps = [
        [base_python, "-m", "venv", str(tmp)],
        [
            str(_python(tmp)),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            package,
        ],
    ]
    for argv in steps:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as err:
            shutil.rmtree(tmp, ignore_errors=True)
            return Environment(None, f"could not install {package}: {err}")
        if done.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no message"]
            return Environment(None, f"could not install {package}: {last[0]}")
    have = _installed_version(_python(tmp))
    if not have:
        shutil.rmtree(tmp, ignore_errors=True)
        return Environment(None, f"{package} installed but lac_validator does not import")
    shutil.rmtree(venv, ignore_errors=True)
    tmp.rename(venv)  # a venv runs from its new place through bin/python (we never use bin/pip)
    return Environment(_python(venv), version=have)


@dataclass(frozen=True)
class StepRun:
    seconds: float  # the whole process: start-up, import, read and the distance step
    distance_step_s: float  # postcode load + derivation, timed inside the process
    distance_step_cpu_s: float  # its CPU time (robust to other load on the machine)
    read_s: float
    episodes: int
    distances: Path


def run_step(python: Path, episodes_csv: Path, out_dir: Path, *, authority: str) -> StepRun:
    """Run the validator's distance step on ``episodes_csv`` in a new process."""
    from benchmarks.analyse_cli import run_child

    done = run_child([str(python), str(STEP), str(episodes_csv), authority, str(out_dir)])
    if done.returncode != 0:
        raise RuntimeError(f"the validator's distance step failed:\n{done.stderr}")
    timing = json.loads((out_dir / "timing.json").read_text())
    return StepRun(
        seconds=done.seconds,
        distance_step_s=float(timing["distance_step_s"]),
        distance_step_cpu_s=float(timing["distance_step_cpu_s"]),
        read_s=float(timing["read_s"]),
        episodes=int(timing["episodes"]),
        distances=out_dir / "distances.csv",
    )


@dataclass(frozen=True)
class Agreement:
    compared: int  # children with a distance in placemap's placements.csv
    differ: int  # of those, the validator gives another distance (to one decimal)
    missing: int  # of those, the validator gives none
    validator_only: int  # children placemap gives no distance and the validator does

    @property
    def ok(self) -> bool:
        return self.compared > 0 and self.differ == 0 and self.missing == 0


def _compact(s: pd.Series) -> pd.Series:
    return s.astype("string").str.upper().str.replace(" ", "", regex=False)


def compare(placements_csv: Path, distances_csv: Path) -> Agreement:
    """Placemap's per-child distances (``placements.csv`` of ``placemap analyse``) against the
    validator's per-episode ones, matched on child and the two postcodes (spaces and case
    ignored), both in tenths of a mile."""
    ours = pd.read_csv(placements_csv, dtype={"CHILD": str, "HOME_POST": str, "PL_POST": str})
    theirs = pd.read_csv(distances_csv, dtype={"CHILD": str, "HOME_POST": str, "PL_POST": str})
    key = ["CHILD", "home", "placement"]
    ours = ours.assign(home=_compact(ours["HOME_POST"]), placement=_compact(ours["PL_POST"]))
    theirs = theirs.assign(
        home=_compact(theirs["HOME_POST"]), placement=_compact(theirs["PL_POST"])
    ).drop_duplicates(key)
    both = ours[[*key, "distance_miles"]].merge(
        theirs[[*key, "PL_DISTANCE"]], on=key, how="left", validate="many_to_one"
    )
    mine = pd.to_numeric(both["distance_miles"], errors="coerce").to_numpy(dtype=float)
    other = pd.to_numeric(both["PL_DISTANCE"], errors="coerce").to_numpy(dtype=float)
    have, has_other = np.isfinite(mine), np.isfinite(other)
    tenths = np.rint(np.where(have, mine, 0) * 10) != np.rint(np.where(has_other, other, 0) * 10)
    return Agreement(
        compared=int(have.sum()),
        differ=int((have & has_other & tenths).sum()),
        missing=int((have & ~has_other).sum()),
        validator_only=int((~have & has_other).sum()),
    )
