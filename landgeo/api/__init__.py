"""Publishing: OGC API – Features through pygeoapi with landgeo's provider (see docs/api.md).

- :mod:`landgeo.api.provider` — the pygeoapi provider class named in ``pygeoapi-config.yml``;
- an items request flows :mod:`landgeo.api.parameters` (parameters -> one validated query; the one builder) ->
  :mod:`landgeo.api.statements` (SQL: GeoJSON built in PostGIS, keyset pages, offset positions, counts; CQL2 in
  :mod:`landgeo.api.cql2`) -> :mod:`landgeo.api.query` (run, numberMatched rule); :mod:`landgeo.api.limits` bounds
  what one request may ask; :mod:`landgeo.api.crs` reads CRS names with the registry's parser;
- :mod:`landgeo.api.app` / :mod:`landgeo.api.wsgi` — the thin wrapper around pygeoapi's app, served by
  ``landgeo serve``;
- :mod:`landgeo.api.config` — generates ``pygeoapi-config.yml`` from the catalogue.
"""
