"""A thread that runs database work one task at a time, so that Python work and PostgreSQL's overlap."""

from __future__ import annotations

import queue
import threading
import time


class DatabaseThread:
    """Runs the load's database work (COPY, per-batch merge) on its own thread, one task at a time.

    The connection is used by this thread only while the file streams, so Python's checks of batch k + 1 run
    while PostgreSQL writes batch k. At most ``depth`` tasks wait: memory stays bounded. The first error
    stops the work and is raised in the loading thread.
    """

    def __init__(self, depth: int = 2) -> None:
        self.tasks: queue.Queue = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.busy = 0.0
        self.thread = threading.Thread(target=self._run, name="landgeo-load-db", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            task = self.tasks.get()
            if task is None:
                return
            if self.error is not None:
                continue
            t0 = time.monotonic()
            try:
                task()
            except BaseException as exc:  # noqa: BLE001 - handed to the loading thread
                self.error = exc
            self.busy += time.monotonic() - t0

    def submit(self, task) -> None:
        if self.error is not None:
            raise self.error
        self.tasks.put(task)

    def finish(self) -> None:
        """Wait for every task; raise the first error."""
        self.tasks.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error

    def abandon(self) -> None:
        """Stop after the running task (on an error or Ctrl-C in the loading thread)."""
        self.error = self.error or RuntimeError("load abandoned")
        try:
            while True:
                self.tasks.get_nowait()
        except queue.Empty:
            pass
        self.tasks.put(None)
        self.thread.join()
