"""landgeo's pygeoapi feature provider (``landgeo.api.provider.LandgeoProvider`` in ``pygeoapi-config.yml``).

pygeoapi creates a provider per request, so construction touches neither the database nor pyproj beyond what
pygeoapi's base class does: fields come from the catalogue, connections from the per-process pool. The query is
built by the one builder (:func:`landgeo.api.parameters.build_query`) and run by :mod:`landgeo.api.query`, like
the fast JSON path of :mod:`landgeo.api.app`: GeoJSON built in PostGIS, transformations in PostGIS.
pygeoapi uses this class for its HTML and JSON-LD pages, queryables and OpenAPI.

Provider definition::

    name: landgeo.api.provider.LandgeoProvider
    type: feature
    data: {url: ${LANDGEO_DATABASE_URL}, collection: parcels}
    id_field: id
    storage_crs: http://www.opengis.net/def/crs/EPSG/0/4756
"""

from __future__ import annotations

import json

from pygeoapi.provider.base import (
    BaseProvider,
    ProviderInvalidQueryError,
    ProviderItemNotFoundError,
    ProviderQueryError,
)

from landgeo.api import guard
from landgeo.api.collections import get_collection
from landgeo.api.crs import CRS84, parse_crs
from landgeo.api.parameters import ApiError, build_query

JSON_SCHEMA_TYPES = {
    "text": {"type": "string"}, "integer": {"type": "integer"}, "number": {"type": "number"},
    "date": {"type": "string", "format": "date"}, "datetime": {"type": "string", "format": "date-time"},
    "text[]": {"type": "array", "items": {"type": "string"}}, "json": {"type": "object"},
}


def fields_schema(collection) -> dict:
    """Published properties as pygeoapi ``fields`` (JSON Schema types), from the catalogue."""
    out = {"id": {"type": "integer", "title": "id"}}
    for f in collection.fields:
        out[f.name] = {**JSON_SCHEMA_TYPES[f.type], "title": f.name, "description": f.description}
    return out


class LandgeoProvider(BaseProvider):
    """Feature provider over one landgeo table (catalogue target or validation findings)."""

    def __init__(self, provider_def: dict) -> None:
        super().__init__(provider_def)
        data = provider_def["data"]
        self.url = data["url"]
        self.collection = get_collection(data["collection"])
        if self.collection is None:
            raise ProviderQueryError(f"unknown landgeo collection {data['collection']!r}")
        self.id_field = "id"
        self.time_field = self.collection.time_field
        self._fields = fields_schema(self.collection)

    def get_fields(self) -> dict:
        return self._fields

    def _crs(self, crs_transform_spec):
        uri = crs_transform_spec.target_crs_uri if crs_transform_spec else None
        if uri is None:
            uri = CRS84
        return parse_crs(uri, self.collection.crs_uris)

    def query(self, offset=0, limit=10, resulttype="results", bbox=None, datetime_=None, properties=None,
              sortby=None, select_properties=None, skip_geometry=False, q=None, filterq=None,
              crs_transform_spec=None, **kwargs) -> dict:
        c = self.collection
        try:
            storage = parse_crs(c.storage_crs, c.crs_uris)  # pygeoapi hands bbox and filters in the storage CRS
            query = build_query(
                c, limit=limit, offset=offset or 0, crs=self._crs(crs_transform_spec),
                bbox=bbox or None, bbox_crs=storage if bbox else None, datetime=datetime_ or None,
                properties=[(k, v) for k, v in (properties or []) if k in c.field_map],
                select=list(select_properties) if select_properties else None, skip_geometry=bool(skip_geometry),
                sortby=[(s["property"], s["order"] != "-") for s in (sortby or [])],
                filter_ast=filterq, filter_crs=storage, hits=resulttype == "hits",
            )
            page = guard.run_items(self.url, query)  # the register: under the request's identity, audited
        except ApiError as exc:
            raise ProviderInvalidQueryError(exc.description) from exc
        except ValueError as exc:
            raise ProviderInvalidQueryError(str(exc)) from exc
        out = {"type": "FeatureCollection", "features": [json.loads(f) for f in page.features],
               "numberReturned": len(page.features)}
        if page.number_matched is not None:
            out["numberMatched"] = page.number_matched
        return out

    def get(self, identifier, crs_transform_spec=None, **kwargs) -> dict:
        try:
            text = guard.run_item(self.url, self.collection, str(identifier), self._crs(crs_transform_spec))
        except ApiError as exc:
            raise ProviderItemNotFoundError(exc.description) from exc
        if text is None:
            raise ProviderItemNotFoundError(f"no feature {identifier!r} in {self.collection.id}")
        return json.loads(text)

    def __repr__(self) -> str:
        return f"<LandgeoProvider> {self.collection.id}"
