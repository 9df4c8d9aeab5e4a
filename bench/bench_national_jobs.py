"""A province's load and ``landgeo validate --province`` into a 1 M and a 10 M national database, interleaved.

The issue's bar: loading (and validating) a province costs the same whatever else is loaded. Peers on the same
server, in the same run: the national databases of ``bench/national_build.py`` at two sizes (default 1 M and 10 M,
all 34 provinces each). Each round empties the probe province in both (its parcels and load batches) and loads
the same file into each with the real ``landgeo load --province``, then runs ``landgeo validate parcels
--province`` on each, the order alternating between rounds. The file is the probe province as generated for the
larger size (province 22: 123 719 parcels), so the smaller database holds about 1.1 M parcels while it is
measured. At the end each database gets its own file of the probe back (the API bench expects its exact size).
Best wall seconds per size are written to ``<data-dir>/jobs-<small>-<large>.json`` for ``bench_national.py``.

    .venv/bin/python bench/bench_national_jobs.py [--sizes 1000000,10000000] [--probe 22] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.national import write_country  # noqa: E402
from bench.national_build import checkpoint, db_url, empty_province, landgeo, log, parcel_count  # noqa: E402
from landgeo.db.migrate import migrate  # noqa: E402
from landgeo.settings import get_settings  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000000,10000000")
    ap.add_argument("--probe", default="22")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--skip-validate", action="store_true")
    ap.add_argument("--data-dir", default="/tmp/landgeo-national")
    args = ap.parse_args()
    small, large = (int(s) for s in args.sizes.split(","))
    data = Path(args.data_dir)
    files = {n: write_country(data / f"n{n}", n, [args.probe], log=log)[args.probe] for n in (small, large)}
    probe_file = files[large]
    parcels = int(probe_file.name.split("-")[1])
    peers = {}
    for key, n in (("small", small), ("large", large)):
        url = db_url(f"landgeo_bench_national_{n}")
        if parcel_count(url) != n:
            raise SystemExit(f"landgeo_bench_national_{n} is not built: python bench/national_build.py {n}")
        migrate(url, get_settings().migrations_dir, log=lambda *_: None)
        peers[key] = (n, url)
    result: dict = {"probe": args.probe, "parcels": parcels, "file": probe_file.name, "sizes": [small, large],
                    "load": {"small": [], "large": []}, "validate": {"small": [], "large": []}}
    for r in range(args.rounds):
        order = ["small", "large"] if r % 2 == 0 else ["large", "small"]
        for key in order:
            n, url = peers[key]
            empty_province(url, args.probe)
            checkpoint(url)
            wall = landgeo(url, "load", str(probe_file), "--into", "parcels", "--province", args.probe)
            result["load"][key].append(round(wall, 2))
            log(f"round {r + 1}: load of province {args.probe} ({parcels} parcels) into the {n:,} database: "
                f"{wall:.1f} s")
        for key in order if not args.skip_validate else []:
            n, url = peers[key]
            wall = landgeo(url, "validate", "parcels", "--province", args.probe)
            result["validate"][key].append(round(wall, 2))
            log(f"round {r + 1}: validate --province {args.probe} in the {n:,} database: {wall:.1f} s")
    for key in ("small", "large"):  # each database back to its own size
        n, url = peers[key]
        if files[n] != probe_file:
            empty_province(url, args.probe)
            landgeo(url, "load", str(files[n]), "--into", "parcels", "--province", args.probe)
        log(f"the {n:,} database holds {parcel_count(url):,} parcels again")
    out = data / f"jobs-{small}-{large}.json"
    out.write_text(json.dumps(result, indent=1))
    for job in ("load", "validate"):
        a, b = result[job]["small"], result[job]["large"]
        if a and b:
            print(f"RESULT {job} province {args.probe} ({parcels} parcels): {small:,} database {min(a):.1f} s, "
                  f"{large:,} database {min(b):.1f} s, ratio {min(b) / min(a):.2f} (best of {len(a)})")
    log(f"written {out}")


if __name__ == "__main__":
    main()
