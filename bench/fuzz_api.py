"""A longer schemathesis run against a real `landgeo serve` than the suite's (tests/test_api_offline.py).

    python bench/fuzz_api.py --base http://127.0.0.1:5000 [--examples 50] [--seed 1]

Runs the examples, coverage and fuzzing phases with every operation of the self-contained OpenAPI document,
checks no server error, status codes, content types and response schemas, and prints schemathesis' summary.
Exit status: schemathesis' own (0 when nothing failed).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:5000", help="base URL of a running landgeo serve")
    parser.add_argument("--examples", type=int, default=50, help="examples per operation")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", default="2")
    args = parser.parse_args(argv)
    st = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or shutil.which("schemathesis")
    if st is None:
        print("error: schemathesis is not installed (pip install -e '.[test]')", file=sys.stderr)
        return 2
    base = args.base.rstrip("/")
    cmd = [st, "run", f"{base}/openapi?f=json", "--url", base, "--checks", CHECKS,
           "--phases", "examples,coverage,fuzzing", "--max-examples", str(args.examples), "--seed", str(args.seed),
           "--workers", args.workers, "--request-timeout", "30"]
    print(" ".join(cmd), flush=True)
    return subprocess.run(cmd, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
