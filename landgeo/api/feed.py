"""The query of a change feed (``GET /collections/{id}/changes``) and the page it answers with.

One rule for the parcels' feed (:mod:`landgeo.api.transactions`) and the map sheets' and themes' feed
(:mod:`landgeo.api.feature_history`): ``since`` is a sequence number or an RFC 3339 time, ``limit`` 1–10 000
(1000 by default), ``province`` a province code; the answer carries ``last`` (the ``since`` of the next sync) and a
``next`` link while a page is full.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import parse_qsl

from landgeo.register.errors import bad

__all__ = ["FeedQuery", "feed_page", "parse_feed"]


@dataclass(frozen=True)
class FeedQuery:
    since: int | dt.datetime  # a sequence number, or a time (changes after it)
    limit: int
    province: str | None

    @property
    def by_time(self) -> bool:
        return isinstance(self.since, dt.datetime)

    def where(self, alias: str = "") -> tuple[str, list]:
        """The SQL condition (``seq``/``at``/``province_code`` of the change table, ``alias`` its prefix such as
        ``"c."``) and its bound parameters: changes after ``since``, of ``province`` when given."""
        cond, args = f"{alias}{'at' if self.by_time else 'seq'} > %s", [self.since]
        if self.province:
            cond += f" AND {alias}province_code = %s"
            args.append(self.province)
        return cond, args


def parse_feed(environ) -> FeedQuery:
    """The feed's parameters from the query string; a 400 (:class:`WriteError`) naming what is wrong."""
    params = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    unknown = sorted(set(params) - {"since", "limit", "province", "f"})
    if unknown:
        raise bad(f"unknown query parameter {unknown[0]!r}; use since, limit, province")
    since = params.get("since", "0").strip() or "0"
    try:
        limit = int(params.get("limit", "1000"))
    except ValueError:
        raise bad("limit must be an integer") from None
    if not 1 <= limit <= 10_000:
        raise bad("limit must be between 1 and 10000")
    if since.isdigit():
        return FeedQuery(int(since), limit, params.get("province") or None)
    try:
        at = dt.datetime.fromisoformat(since.replace("Z", "+00:00"))
    except ValueError:
        raise bad(f"since must be a sequence number or an RFC 3339 time, got {since[:40]!r}") from None
    return FeedQuery(at, limit, params.get("province") or None)


def feed_page(query: FeedQuery, changes: list[dict], last_seq: int | None, base_url: str, cid: str) -> dict:
    """The feed's answer: the changes, ``last`` and a ``next`` link when the page is full."""
    last = last_seq if last_seq is not None else (None if query.by_time else query.since)
    links = []
    if len(changes) == query.limit:
        links.append({"rel": "next", "type": "application/json",
                      "href": f"{base_url}/collections/{cid}/changes?since={last}&limit={query.limit}"})
    return {"changes": changes, "last": last, "links": links}
