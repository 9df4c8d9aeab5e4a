"""The ``make demo`` data set and flow: two Hà Nội communes generated from a seed (``synth``), written as
provinces write them (``files``: TCVN3 shapefile, GeoPackage, GeoJSON), loaded, validated and served by
``python -m landgeo.demo``. See docs/demo.md."""
