#!/bin/sh
# Make sure PostgreSQL server binaries, PostGIS and GDAL's command-line tools are present.
# As root on Debian/Ubuntu: install what is missing with apt-get. Otherwise: say what to install.
set -e
pg_bindir() {
  if [ -n "${LANDGEO_PG_BINDIR:-}" ]; then echo "$LANDGEO_PG_BINDIR"; return; fi
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}
bindir=$(pg_bindir)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "PostgreSQL server binaries not found: install postgresql (>= 15) or set LANDGEO_PG_BINDIR" >&2
  exit 1
fi
major=$("$bindir/pg_config" --version 2>/dev/null | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
[ -n "$major" ] || major=$(basename "$(dirname "$bindir")")
sharedir=$("$bindir/pg_config" --sharedir 2>/dev/null || echo "/usr/share/postgresql/$major")
need=""
ls "$sharedir"/extension/postgis.control >/dev/null 2>&1 || need="$need postgresql-$major-postgis-3"
command -v ogr2ogr >/dev/null 2>&1 || need="$need gdal-bin"
# the map's label glyphs are made from DejaVu Sans (landgeo/tiles/glyphs.py)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need="$need fonts-dejavu-core"
[ -z "$need" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing:$need"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq $need >/dev/null
  exit 0
fi
echo "missing system packages:$need — install them (e.g. sudo apt-get install$need) and run make again" >&2
exit 1
