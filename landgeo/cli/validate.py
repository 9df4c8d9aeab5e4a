"""``landgeo validate``: run the checks over stored data, print a summary, keep the findings."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.table import Table

from landgeo.errors import UserError


def validate(
    target: str | None = typer.Argument(None, help="Collection id (parcels, roads ...); all targets if omitted"),
    province: str | None = typer.Option(None, "--province", help="Only this province (2-digit code)"),
    commune: str | None = typer.Option(None, "--commune", help="Only this commune (5-digit code)"),
    batch: int | None = typer.Option(None, "--batch", help="Only the rows of this load batch (meta.load_batch id)"),
    jobs: int = typer.Option(2, "--jobs", "-j", min=1, max=16,
                             help="Connections for the heavy set-based checks (split by commune)"),
    output: str | None = typer.Option(
        None, "--output", "-o", help="Also write the findings to FILE.gpkg|.geojson|.csv"
    ),
) -> None:
    """Kiểm tra dữ liệu — validate stored land and base-geography data.

    Checks geometry, parcel topology (overlaps, gaps, duplicates, commune, map sheet), networks, coordinates
    and attributes (parcel numbers, land-use codes, declared vs computed area). Prints counts per check and
    severity; findings go to meta.validation_finding (the validation-findings collection) and to --output.
    """
    from landgeo.catalog import get_target
    from landgeo.db.connect import connect
    from landgeo.validation import CHECKS, run_summary, run_validation
    from landgeo.validation.output import check_output, write_run_findings

    if target is not None:
        get_target(target)
    if output is not None:
        check_output(output)
    console = Console(stderr=True)
    interactive = sys.stdout.isatty()
    with connect() as conn:
        if interactive:
            with console.status("validating ...") as status:
                run_id = run_validation(conn, target, province, commune, batch, jobs=jobs,
                                        progress=lambda msg: status.update(msg))
        else:
            run_id = run_validation(conn, target, province, commune, batch, jobs=jobs,
                                    progress=lambda msg: print(msg))
        summary = run_summary(conn, run_id)
        counts = conn.execute("SELECT counts FROM meta.validation_run WHERE id = %s", (run_id,)).fetchone()[0]
        written = write_run_findings(conn, run_id, output) if output else None
    table = Table(title=f"validation run {run_id}")
    for col in ("check", "severity", "count", "title"):
        table.add_column(col, justify="right" if col == "count" else "left")
    for code, severity, n in summary:
        check = CHECKS.get(code)
        table.add_row(code, severity, str(n), check.title_en if check else "")
    Console(width=160).print(table)
    total = sum(n for _, _, n in summary)
    errors = sum(n for _, s, n in summary if s == "error")
    print(f"run {run_id}: {total} findings ({errors} errors) in {', '.join(counts.get('targets', [])) or 'no data'}")
    if counts.get("skipped"):
        print(f"not run (reference data missing): {', '.join(counts['skipped'])}")
    if written is not None:
        print(f"wrote {written} findings to {output}")


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)


__all__ = ["register", "validate", "UserError"]
