"""gunicorn settings and hooks of ``landgeo serve`` (``--config python:landgeo.api.gunicorn_conf``).

Clean shutdown: on SIGTERM — and on SIGINT, which gunicorn would otherwise treat as a *quick* stop that cuts
in-flight requests — the master stops accepting, each worker finishes its in-flight requests (at most
``graceful_timeout`` seconds), closes its database pools (``worker_exit``: no pool thread is left for the
interpreter to wait on) and exits; the master then exits. Idle, the whole stop takes well under 5 s.

Once a process's work is done (requests answered, pools closed) it leaves with ``os._exit``: tearing down an
interpreter that imported pygeoapi, pyproj, numpy … takes one to three seconds on a busy machine and does
nothing useful, and a stop counts the seconds (Docker and systemd kill at 10 s).
"""

from __future__ import annotations

import os
import signal
import sys

from landgeo.api import failfast, metrics

graceful_timeout = 30  # the longest in-flight request a stop waits for (the statement timeout is 30 s)


def when_ready(server) -> None:
    server.handle_int = server.handle_term  # SIGINT (Ctrl-C) stops gracefully, like SIGTERM
    halt = server.halt

    def halt_noting_status(reason=None, exit_status=0):
        server.landgeo_exit_status = exit_status
        halt(reason, exit_status)

    server.halt = halt_noting_status


def post_worker_init(worker) -> None:
    # Ctrl-C in a terminal signals the whole process group: a worker finishes its requests, as on SIGTERM
    signal.signal(signal.SIGINT, worker.handle_exit)


def worker_exit(server, worker) -> None:
    failfast.close_all(timeout=1.0)
    if getattr(worker, "booted", False) and not worker.alive:  # a normal stop, not a boot failure
        _fast_exit(0)


def on_exit(server) -> None:
    _fast_exit(getattr(server, "landgeo_exit_status", 0))


def _fast_exit(status: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(status)


def child_exit(server, worker) -> None:
    metrics.mark_worker_dead(worker.pid)
