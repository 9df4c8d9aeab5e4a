"""gunicorn settings and hooks of ``landgeo serve`` (``--config python:landgeo.api.gunicorn_conf``).

Clean shutdown: on SIGTERM — and on SIGINT, which gunicorn would otherwise treat as a *quick* stop that cuts
in-flight requests — the master stops accepting, each worker finishes its in-flight requests (at most
``graceful_timeout`` seconds), closes its database pools (``worker_exit``: no pool thread is left for the
interpreter to wait on) and exits; the master then exits. Idle, the whole stop takes well under 5 s.
"""

from __future__ import annotations

import signal

from landgeo.api import failfast, metrics

graceful_timeout = 30  # the longest in-flight request a stop waits for (the statement timeout is 30 s)


def when_ready(server) -> None:
    server.handle_int = server.handle_term  # SIGINT (Ctrl-C) stops gracefully, like SIGTERM


def post_worker_init(worker) -> None:
    # Ctrl-C in a terminal signals the whole process group: a worker finishes its requests, as on SIGTERM
    signal.signal(signal.SIGINT, worker.handle_exit)


def worker_exit(server, worker) -> None:
    failfast.close_all(timeout=1.0)


def child_exit(server, worker) -> None:
    metrics.mark_worker_dead(worker.pid)
