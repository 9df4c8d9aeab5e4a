"""Vector tiles (bản đồ nền dạng tile) and the web map: OGC API – Tiles made by PostGIS, styles, glyphs, the tile cache
and the ``/map`` page, routed from :mod:`landgeo.api.app`."""
