"""Publishing: OGC API – Features through pygeoapi with landgeo's provider (see docs/api.md).

- :mod:`landgeo.api.provider` — the pygeoapi provider class named in ``pygeoapi-config.yml``;
- :mod:`landgeo.api.query` and :mod:`landgeo.api.cql2` — the SQL (GeoJSON built in PostGIS, keyset pages, CQL2);
- :mod:`landgeo.api.app` / :mod:`landgeo.api.wsgi` — the thin wrapper around pygeoapi's app, served by
  ``landgeo serve``;
- :mod:`landgeo.api.config` — generates ``pygeoapi-config.yml`` from the catalogue.
"""
