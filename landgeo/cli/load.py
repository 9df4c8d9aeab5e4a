"""``landgeo load``: load a vector file into a land or base-geography target (see docs/loaders.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from landgeo.errors import UserError


def _list_targets() -> None:
    from landgeo.catalog import targets

    for t in targets().values():
        print(f"{t.id:16} {t.qualified_table:26} {t.geometry_type:16} {t.title}")
        for f in t.extra.get("load_fields", t.fields):  # the register's files name links by codes
            req = "required" if f.required else "optional"
            aliases = f"  aliases: {', '.join(f.aliases)}" if f.aliases else ""
            print(f"    {f.name:16} {f.type:9} {req:9} {f.description}{aliases}")
        if t.natural_key:
            print(f"    natural key: {' + '.join(t.natural_key)}")


class _Progress:
    """A rich progress bar on a terminal, plain lines otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stdout.isatty()
        self.bar = None
        self.task = None
        self.last_line = -1

    def __enter__(self):
        if self.tty:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), transient=True)
            self.bar.__enter__()
        return self

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if self.bar is not None:
            if self.task is None:
                self.task = self.bar.add_task(stage, total=total)
            self.bar.update(self.task, description=stage, completed=done, total=total)
            return
        if stage == "read":
            print(f"read {done}/{total} features", flush=True)
        else:
            print(f"{stage} ...", flush=True)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


def load_command(
    src: Path = typer.Argument(None, help="Source file: .shp, .zip, .gpkg, .geojson, .fgb, .csv, .dxf"),
    into: str = typer.Option(None, "--into", help="Target id (see --list-targets), e.g. parcels"),
    layer: str = typer.Option(None, "--layer", help="Layer of a GeoPackage (or file inside a zip)"),
    crs: str = typer.Option(None, "--crs", help="Source CRS when the file has none or a wrong one: EPSG:9210, "
                            "a URI, or vn2000:<province>"),
    force_crs: bool = typer.Option(False, "--force-crs", help="Load even if the coordinates contradict the CRS"),
    mapping: Path = typer.Option(None, "--mapping", help="YAML field mapping (fields:, constants:)"),
    mode: str = typer.Option("append", "--mode", help="append | replace (communes in the file) | upsert"),
    on_invalid: str = typer.Option("reject", "--on-invalid", help="Invalid geometry: repair (make_valid) | reject"),
    rejects: Path = typer.Option(None, "--rejects", help="Write rejected features to FILE.gpkg or FILE.geojson"),
    encoding: str = typer.Option(None, "--encoding", help="Text encoding of a DBF: utf-8, tcvn3, vni, cp1258"),
    province: str = typer.Option(None, "--province", help="Province code for features that have none"),
    set_checks: str = typer.Option(
        "keys", "--set-checks", help="Set-based checks at load: keys (natural-key duplicates, rejected) | all (also "
        "overlaps, gaps, containment, areas, recorded as findings; `landgeo validate --batch N` runs them later)"),
    batch_size: int = typer.Option(32768, "--batch-size", help="Features per batch (memory vs. speed)"),
    list_targets: bool = typer.Option(False, "--list-targets", help="List targets and their fields, then exit"),
) -> None:
    """Load a vector file into a land or base-geography table: checked, transformed to VN-2000, all or nothing."""
    if list_targets:
        _list_targets()
        return
    if src is None or into is None:
        raise UserError("usage: landgeo load SRC --into TARGET [options]  (landgeo load --list-targets)")
    if set_checks not in ("all", "keys"):
        raise UserError("--set-checks: use all or keys")
    from landgeo.catalog import get_target
    from loaders import checksum

    if not get_target(into).spatial:  # the land register: rows without geometry, linked by codes
        from loaders.register import load_register

        print(load_register(src, into, mode).summary(str(src)))
        return
    checksum.prefetch(Path(src))  # the file's SHA-256 on a thread while the loader's modules are imported
    from loaders.memory import keep_freed_memory

    keep_freed_memory()  # this process loads and exits: batches reuse their memory instead of faulting it in
    from loaders.pipeline import LoadOptions, load
    from loaders.report import summary_line

    options = LoadOptions(target=into, layer=layer, crs=crs, force_crs=force_crs, mapping=mapping, mode=mode,
                          on_invalid=on_invalid, rejects=rejects, encoding=encoding, province=province,
                          batch_size=batch_size, set_checks=set_checks)
    try:
        with _Progress() as progress:
            result = load(src, options, progress)
    except KeyboardInterrupt:
        err = UserError("interrupted: the load was rolled back, the database is unchanged")
        err.exit_code = 130
        raise err from None
    for note in result.notes:
        if note:
            print(f"note: {note}")
    if result.status == "noop":
        print(f"no-op: {src} is already loaded into {into} (batch {result.previous_batch}); recorded as batch "
              f"{result.batch_id}")
        return
    print(f"loaded {src} into {into} as batch {result.batch_id} ({result.crs_in} -> {result.crs_out}, "
          f"mode {mode}) in {result.seconds:.1f} s")
    print(summary_line(result.counts))
    if result.rejects_by_code:
        by = ", ".join(f"{k} {v}" for k, v in sorted(result.rejects_by_code.items()))
        where = f" -> {result.rejects_path}" if result.rejects_path else " (use --rejects FILE to write them)"
        print(f"rejected {sum(result.rejects_by_code.values())}: {by}{where}")
        print("\n".join(result.reject_reasons), end="\n" if result.reject_reasons else "")
    if result.warnings_by_code:
        print("warnings: " + ", ".join(f"{k} {v}" for k, v in sorted(result.warnings_by_code.items())))
    if result.findings_by_code:
        print("findings recorded for this batch: "
              + ", ".join(f"{k} {v}" for k, v in sorted(result.findings_by_code.items())))


def register(app: typer.Typer) -> None:
    app.command("load")(load_command)
