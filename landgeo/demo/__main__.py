"""``python -m landgeo.demo`` (what ``make demo`` runs): database, demo data, the land office's commands, the API.

1. starts the embedded PostGIS (unless ``LANDGEO_DATABASE_URL`` is set) and migrates it;
2. generates the demo data set under ``data/generated/demo`` (skipped when it is there with the same seed and
   generator version);
3. runs the real commands a land office would type, printing each one: ``landgeo load`` for the communes,
   the map sheets, the parcels of each commune and every base-geography theme, then ``landgeo validate``;
4. prints the URLs to open and how to add the server in QGIS, and serves the API in the foreground
   (``landgeo serve``), unless ``--no-serve``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path

from landgeo.catalog import get_target
from landgeo.cli import app
from landgeo.cli import main as cli_main
from landgeo.db.cluster import EmbeddedCluster
from landgeo.db.connect import connect, database_url
from landgeo.db.migrate import migrate
from landgeo.demo import register
from landgeo.demo.files import Source, ensure, sources_from_manifest
from landgeo.demo.synth import COMMUNES, DEFAULT_SEED, PROVINCE_CODE
from landgeo.errors import UserError
from landgeo.settings import get_settings

QGIS_PROJECT = Path("qgis") / "landgeo-demo.qgs"


def available_commands() -> set[str]:
    """Top-level ``landgeo`` commands present in this checkout (load/validate/serve land separately)."""
    names = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    names |= {g.name for g in app.registered_groups if g.name}
    return names


def load_args(source: Source, home: Path) -> list[str]:
    """The ``landgeo load`` arguments for one demo file, exactly as a land office would type them."""
    try:
        shown = source.path.relative_to(home)
    except ValueError:
        shown = source.path
    args = ["load", str(shown), "--into", source.target]
    if source.layer:
        args += ["--layer", source.layer]
    target = get_target(source.target)  # keyed tables are upserted, base themes replaced (province scope)
    args += ["--mode", "upsert" if target.natural_key else "replace"]
    if any(f.name == "province_code" for f in target.fields):
        args += ["--province", PROVINCE_CODE]
    return args


def run(args: list[str]) -> None:
    """Print ``$ landgeo ...`` and run it through the CLI's own entry point; a failure stops the demo.

    In-process (the same ``landgeo.cli.main`` the ``landgeo`` script calls) rather than a subprocess per
    command: it saves an interpreter start and the imports each time, which is what makes a second run quick.
    """
    print(f"\n$ landgeo {shlex.join(args)}", flush=True)
    started = time.monotonic()
    try:
        cli_main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except Exception as exc:  # a bug in a command, not the user's mistake: still one line, and stop
        first = (str(exc).strip().splitlines() or [""])[0]
        raise UserError(f"`landgeo {shlex.join(args)}` crashed: {type(exc).__name__}: {first}") from exc
    sys.stdout.flush()
    sys.stderr.flush()
    if code != 0:
        raise UserError(f"`landgeo {shlex.join(args)}` failed (exit {code}); see the message above")
    print(f"  ({time.monotonic() - started:.1f} s)", flush=True)


def database_ready(log=print) -> str:
    """``landgeo db up`` + ``landgeo db migrate`` through the same functions; returns the database URL."""
    settings = get_settings()
    if settings.uses_embedded:
        log("$ landgeo db up")
        EmbeddedCluster(settings).up(log=lambda *a: log("  " + " ".join(str(x) for x in a)))
    else:
        log("database: LANDGEO_DATABASE_URL (external server)")
    url = database_url(settings)
    with connect(url) as conn:  # an unreachable server is one line (UserError), not a traceback
        conn.execute("SELECT 1")
    log("$ landgeo db migrate")
    migrate(url, settings.migrations_dir, log=lambda *a: log("  " + " ".join(str(x) for x in a)))
    return url


def banner(port: int, home: Path) -> str:
    base = f"http://127.0.0.1:{port}"
    return "\n".join([
        "",
        "The demo is loaded. Open:",
        f"  {base}/                                landing page (HTML)",
        f"  {base}/collections                     every collection, with a map per collection",
        f"  {base}/collections/parcels/items       parcels (thửa đất), page by page",
        f"  {base}/collections/parcels/items?commune_code=09877&sheet_number=7   one map sheet of xã An Khánh",
        f"  {base}/collections/validation-findings/items   what validation found (planted errors)",
        f"  {base}/openapi                         OpenAPI document",
        f"  {base}/map                             web map: vector tiles, land-use colours, search by thửa/address",
        "",
        "In QGIS (3.16 or later):",
        f"  - open the project {home / QGIS_PROJECT} (Project > Open): land-use colours, sheet/parcel labels; or",
        "  - Layer > Add Layer > Add WFS / OGC API – Features Layer…, New, URL "
        f"{base}/ , Connect, pick the collections, Add.",
        "  - vector tiles: Layer > Add Layer > Add Vector Tile Layer…, New > Generic, URL "
        f"{base}/collections/parcels/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}} , Style URL {base}/styles/parcels",
        "",
        "Stop the server with Ctrl-C. `make demo` again starts in seconds (the loads are no-ops).",
    ] + ([] if port == 5000 else [
        f"(The QGIS project's layers point at port 5000: on port {port}, use the connection dialog instead.)"]))


def port_free(port: int) -> bool:
    """Whether 127.0.0.1:``port`` can be listened on (checked before loading, not after)."""
    import socket

    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m landgeo.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="generator seed (default %(default)s)")
    parser.add_argument("--out", type=Path, default=None, help="data folder (default data/generated/demo)")
    parser.add_argument("--port", type=int, default=None, help="API port (default $LANDGEO_API_PORT or 5000)")
    parser.add_argument("--no-serve", action="store_true", help="stop after loading and validating")
    ns = parser.parse_args(argv)
    settings = get_settings()
    home = settings.home
    out = (ns.out or home / "data" / "generated" / "demo").resolve()
    port = ns.port or settings.api_port
    try:
        missing = {"load", "validate", "serve"} - available_commands()
        if missing:
            raise UserError(f"this checkout has no `landgeo {'`, `landgeo '.join(sorted(missing))}` yet")
        if not ns.no_serve and not port_free(port):
            raise UserError(f"port {port} is in use (another `landgeo serve`?): stop it, or pass --port / set "
                            "LANDGEO_API_PORT")
        url = database_ready()
        manifest, generated = ensure(out, ns.seed)
        counts = manifest["counts"]
        print(f"demo data set in {out}: {counts['parcels']} parcels, {counts['map-sheets']} map sheets, "
              f"seed {manifest['seed']}" + ("" if generated else " (already generated)"), flush=True)
        os.environ["LANDGEO_DATABASE_URL"] = url  # every command below works on this database
        os.chdir(home)  # the paths are printed, and given, relative to the project folder
        for source in demo_sources(out, manifest):
            run(load_args(source, home))
        # the land register of the demo parcels (synthetic people)
        for args in register.prepare(out / "register", url, home, PROVINCE_CODE, tuple(c.code for c in COMMUNES)):
            run(args)
        run(["validate"])
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    if ns.no_serve:
        return 0
    print(banner(port, home), flush=True)
    print(f"\n$ landgeo serve --port {port}", flush=True)
    os.chdir(home)
    os.execve(sys.executable, [sys.executable, "-m", "landgeo", "serve", "--port", str(port)],
              {**os.environ, "LANDGEO_DATABASE_URL": url})
    return 0  # not reached


def demo_sources(out: Path, manifest: dict) -> list[Source]:
    """The loads of the demo, from the files listed in its manifest."""
    return sources_from_manifest(out, manifest)


if __name__ == "__main__":
    sys.exit(main())
