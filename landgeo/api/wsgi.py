"""WSGI entry point for gunicorn: ``landgeo.api.wsgi:application``.

Importing builds the application (pygeoapi, its configuration and OpenAPI document) behind the operations
middleware (health, metrics, access log, fast 503s): with ``gunicorn --preload`` that happens once in the master,
so workers answer their first request at once. Database pools are opened per worker process, on first use,
never in the master.
"""

from __future__ import annotations

from landgeo.api.app import create_app
from landgeo.api.ops import wrap

application = wrap(create_app())
