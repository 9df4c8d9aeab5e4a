"""Run every benchmark of bench/ in turn (what `make bench` does); each prints its own ratios.

    .venv/bin/python bench/run_all.py [--quick] [--only load,validate,api,crs]

``--quick`` is a smoke run (less data, or shorter load for the API), not the numbers of record.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BENCHES = {
    "crs": (["-m", "bench.bench_crs"], ["--points", "100000", "--db-points", "10000"]),
    "load": (["bench/bench_load.py"], ["100000"]),
    "validate": (["bench/bench_validate.py"], ["--size", "300"]),
    "api": (["bench/bench_api.py"], ["--seconds", "2", "--rounds", "1"]),  # its scenarios need 1 M rows
    "tiles": (["bench/bench_tiles.py"], ["--shapes", "shared", "--tiles", "4", "--rounds", "1", "--timeout", "10"]),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a tenth of the data: a smoke run")
    ap.add_argument("--only", default=",".join(BENCHES), help="comma-separated: " + ",".join(BENCHES))
    args = ap.parse_args()
    failed = []
    for name in args.only.split(","):
        if name not in BENCHES:
            sys.exit(f"error: unknown benchmark {name!r}; known: {', '.join(BENCHES)}")
        cmd, quick = BENCHES[name]
        full = [sys.executable, *cmd, *(quick if args.quick else [])]
        print(f"\n=== {name}: {' '.join(full[1:])}", flush=True)
        t0 = time.monotonic()
        if subprocess.run(full, cwd=ROOT).returncode != 0:
            failed.append(name)
        print(f"=== {name}: {time.monotonic() - t0:.0f} s", flush=True)
    if failed:
        sys.exit(f"error: benchmark(s) failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
