"""WAL archiving of the embedded cluster: where archived WAL goes and the server settings that put it there.

Every completed WAL segment is copied into the archive (``archive_command``), and a segment is closed at least
every ``archive_timeout`` (60 s) when anything was written: with a base backup (``landgeo db backup``) this
allows a restore to any moment since that backup (``landgeo db restore --to``), losing at most the last minute
of a lost disk. The archive is ``LANDGEO_WAL_ARCHIVE`` when set, else ``wal-archive/`` beside the data folder.

WAL is kept only once the archive holds the marker file ``ENABLED`` (written by the first ``landgeo db backup``):
before any base backup the WAL could restore nothing, and a development cluster that loads millions of rows
would fill its disk with it.
"""

from __future__ import annotations

from pathlib import Path

from landgeo.errors import UserError

ARCHIVE_SETTINGS = {"wal_level": "replica", "archive_mode": "on", "archive_timeout": "'60s'"}
_UNSAFE = set("\"'$`\\\n")


def _checked(path: Path) -> str:
    text = str(path)
    if _UNSAFE & set(text):
        raise UserError(f"the WAL archive path {text!r} has a quote, $, ` or \\: choose another (LANDGEO_WAL_ARCHIVE)")
    return text


MARKER = "ENABLED"


def archive_command(archive: Path) -> str:
    """Copy a segment into ``archive`` unless it is there already (never overwrite), atomically; a no-op before
    the first backup (no ``ENABLED`` marker)."""
    d = _checked(archive)
    return (f'[ ! -f "{d}/{MARKER}" ] || {{ test ! -f "{d}/%f" && cp "%p" "{d}/%f.part" '
            f'&& mv "{d}/%f.part" "{d}/%f"; }}')


def restore_command(archive: Path) -> str:
    return f'cp "{_checked(archive)}/%f" "%p"'


def conf_quote(value: str) -> str:
    """``value`` as a postgresql.conf string literal."""
    return "'" + value.replace("'", "''") + "'"


def archiving_lines(archive: Path) -> list[str]:
    """postgresql.auto.conf lines that turn archiving on into ``archive``."""
    lines = [f"{key} = {value}" for key, value in ARCHIVE_SETTINGS.items()]
    lines.append(f"archive_command = {conf_quote(archive_command(archive))}")
    return lines


def has_archiving(auto_conf: Path) -> bool:
    try:
        return any(line.startswith("archive_command") for line in auto_conf.read_text().splitlines())
    except FileNotFoundError:
        return False
