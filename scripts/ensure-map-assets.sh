#!/bin/sh
# `make map-assets` (run by `make test` and `make demo`): the web map's browser libraries, served by landgeo itself.
# npm installs web/package.json's locked packages into web/node_modules (git-ignored) and MapLibre GL JS's dist files
# are copied to landgeo/api/static/vendor/ (git-ignored), where /map/vendor/… serves them: nothing is loaded from
# another host at run time. Without npm the map page answers 404 for its library and says to run this.
set -e
cd "$(dirname "$0")/.."
OUT=landgeo/api/static/vendor
DIST=web/node_modules/maplibre-gl/dist
if [ -f "$OUT/maplibre-gl.js" ] && [ "$OUT/maplibre-gl.js" -nt web/package-lock.json ]; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing npm (Debian) for the web map's libraries ..."
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
    else
        echo "warning: npm not found: the web map (/map) has no MapLibre GL JS until you install npm and run make map-assets" >&2
        exit 0
    fi
fi
echo "installing the web map's libraries (npm ci in web/) ..."
npm ci --prefix web --ignore-scripts --no-audit --no-fund --silent
mkdir -p "$OUT"
cp "$DIST/maplibre-gl.js" "$DIST/maplibre-gl.css" "$DIST/LICENSE.txt" "$OUT/"
echo "MapLibre GL JS $(node -p "require('./web/node_modules/maplibre-gl/package.json').version" 2>/dev/null) in $OUT"
