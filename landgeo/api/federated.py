"""Serving around a federated province whose own database does not answer (HTTP 503 naming it).

A request for that province (its id, or ``province_code=`` it) gets 503 with the province's code and name; a
request over several provinces is answered from the others, with the header ``Landgeo-Unavailable-Provinces``
listing what was left out.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache

import psycopg

from landgeo.api.query import ApiError, ItemsQuery, Page
from landgeo.db.federation import check_code, unavailable_province
from landgeo.settings import get_settings

HEADER = "Landgeo-Unavailable-Provinces"


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    path = get_settings().reference_dir / "province_codes_2025.csv"
    with open(path, encoding="utf-8") as f:
        return {r["province_code"]: r["province_name_vi"] for r in csv.DictReader(f)}


def unavailable_error(exc: BaseException) -> ApiError:
    """503 naming the province whose database a postgres_fdw error says is down, else the generic 503."""
    code = unavailable_province(exc)
    if code is None:
        return ApiError(503, "ServiceUnavailable", "the database is not reachable; try again later")
    name = _names().get(code, "")
    return ApiError(503, "ServiceUnavailable", f"province {code}{f' ({name})' if name else ''} is not reachable: "
                    "its own database does not answer; other provinces are served; try again later")


def run_items_federated(run: Callable[[ItemsQuery], Page], q: ItemsQuery) -> tuple[Page, tuple[str, ...]]:
    """A page (``run``), leaving out provinces whose database is down when the request is not for them only."""
    asked = {v for k, v in q.properties if k == "province_code"}
    while True:
        try:
            return run(q), q.unavailable
        except psycopg.OperationalError as exc:
            code = unavailable_province(exc)
            if code is None or code in q.unavailable or code in asked or len(q.unavailable) > 33:
                raise
            q = replace(q, unavailable=(*q.unavailable, check_code(code)))
