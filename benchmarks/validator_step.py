"""The DfE-aligned 903 validator's distance step, run by the validator's own interpreter.

    benchmarks/.validator-venv/bin/python benchmarks/validator_step.py EPISODES.csv LA OUT_DIR

Runs inside the validator's virtual environment (``csc-validator-be-903`` pins an old numpy and
pandas), so it imports nothing from placemap. It reads the Episodes CSV as text columns
(``pandas.read_csv(dtype=str)``: the validator's own ``read_csvs_from_text`` stops on a column that
is empty in every row, as URN is in the demo), then times the validator's distance step,
``lac_validator.datastore._add_postcode_derived_fields``: the postcode package's msgpack files
for the letters in the file, the merge on the space-free postcode, and the guidance's formula
``sqrt(dE² + dN²) / 1000 / 1.6093`` rounded to one decimal. Writes ``timing.json`` (seconds of
the read and of the distance step) and ``distances.csv`` (CHILD, HOME_POST, PL_POST,
PL_DISTANCE for every episode) into OUT_DIR.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    episodes_csv, local_authority, out_dir = argv
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    import pandas as pd
    from lac_validator import datastore

    imported = time.perf_counter()
    episodes = pd.read_csv(episodes_csv, dtype=str)
    read, cpu = time.perf_counter(), time.process_time()
    derived = datastore._add_postcode_derived_fields(episodes, local_authority)
    done, cpu_done = time.perf_counter(), time.process_time()
    derived[["CHILD", "HOME_POST", "PL_POST", "PL_DISTANCE"]].to_csv(
        out / "distances.csv", index=False
    )
    (out / "timing.json").write_text(
        json.dumps(
            {
                "import_s": imported - start,
                "read_s": read - imported,
                "distance_step_s": done - read,
                "distance_step_cpu_s": cpu_done - cpu,
                "episodes": int(len(derived)),
                "with_distance": int(derived["PL_DISTANCE"].notna().sum()),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
