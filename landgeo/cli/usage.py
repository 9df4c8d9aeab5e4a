"""One line for a usage mistake (option without its value, unknown option, wrong type, missing argument,
bad choice, unknown command): ``landgeo crs list: option '--province' requires an argument (see --help)``."""

from __future__ import annotations


def usage_error_line(exc: Exception) -> str:
    """The message of a click/typer exception on one line, prefixed by the command it concerns."""
    try:
        message = exc.format_message()  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - a message we cannot format still gets its class name
        message = type(exc).__name__
    message = " ".join(str(message).split()) or type(exc).__name__
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", None) if ctx is not None else None
    if path:
        return f"{path}: {message} (see {path} --help)"
    return message
