"""A province's load and ``landgeo validate --province`` alone vs with the 33 other provinces loaded, interleaved.

Peer databases on the same server, in the same run: ``landgeo_bench_national_alone`` (only the probe province)
and the national one of ``bench/national_build.py N`` (all 34). Each round empties the probe province in both
(parcels and their load batches) and loads the same file into each, then validates the province in each, the
order alternating between rounds. Times are wall seconds of the real CLI.

    .venv/bin/python bench/bench_national_jobs.py [N=10000000] [--probe 22] [--rounds 2] [--skip-validate]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.national import write_country  # noqa: E402
from bench.national_build import checkpoint, db_url, empty_province, landgeo, log  # noqa: E402
from landgeo.db.connect import database_url, url_with_database  # noqa: E402
from landgeo.db.migrate import migrate  # noqa: E402
from landgeo.db.scratch import create_database  # noqa: E402
from landgeo.settings import get_settings  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", nargs="?", type=int, default=10_000_000)
    ap.add_argument("--probe", default="22")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--skip-validate", action="store_true")
    ap.add_argument("--skip-load", action="store_true", help="validate what both databases hold already")
    ap.add_argument("--data-dir", default="/tmp/landgeo-national")
    args = ap.parse_args()
    path = write_country(Path(args.data_dir) / f"n{args.n}", args.n, [args.probe], log=log)[args.probe]
    server = url_with_database(database_url(), "postgres")
    alone = url_with_database(server, "landgeo_bench_national_alone")
    if not args.skip_load:  # --skip-load validates what the previous run left in it
        create_database(server, "landgeo_bench_national_alone")
    migrate(alone, get_settings().migrations_dir, log=lambda *_: None)
    national = db_url(f"landgeo_bench_national_{args.n}")
    migrate(national, get_settings().migrations_dir, log=lambda *_: None)
    peers = {"alone": alone, "with 33 others": national}
    loads: dict[str, list[float]] = {k: [] for k in peers}
    checks: dict[str, list[float]] = {k: [] for k in peers}
    for r in range(args.rounds):
        order = list(peers) if r % 2 == 0 else list(peers)[::-1]
        for name in order if not args.skip_load else []:
            empty_province(peers[name], args.probe)
            checkpoint(peers[name])
            wall = landgeo(peers[name], "load", str(path), "--into", "parcels", "--province", args.probe)
            loads[name].append(wall)
            log(f"round {r + 1}: load of province {args.probe} {name}: {wall:.1f} s")
        if args.skip_validate:
            continue
        for name in order:
            wall = landgeo(peers[name], "validate", "parcels", "--province", args.probe)
            checks[name].append(wall)
            log(f"round {r + 1}: validate --province {args.probe} {name}: {wall:.1f} s")
    a, b = min(loads["alone"], default=float("nan")), min(loads["with 33 others"], default=float("nan"))
    print(f"RESULT load province {args.probe} ({path.name}): alone {a:.1f} s, with 33 others {b:.1f} s, "
          f"ratio {b / a:.2f} (best of {args.rounds})")
    if not args.skip_validate:
        a, b = min(checks["alone"]), min(checks["with 33 others"])
        print(f"RESULT validate --province {args.probe}: alone {a:.1f} s, with 33 others {b:.1f} s, "
              f"ratio {b / a:.2f} (best of {args.rounds})")


if __name__ == "__main__":
    main()
