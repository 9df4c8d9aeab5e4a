#!/bin/sh
# The browser libraries landgeo serves itself (make db, make map-assets): npm installs web/package.json's locked
# packages into web/node_modules (git-ignored). The HTML pages' Leaflet, Bootstrap and Swagger UI are served from
# there under /assets/ (landgeo/api/assets.py); MapLibre GL JS's dist files are copied to landgeo/tiles/static/vendor/
# (git-ignored), where /map/vendor/… serves them. Nothing is loaded from another host at run time.
# Without npm the pages still work, only without map or styles: say so and carry on.
set -e
cd "$(dirname "$0")/.."
STAMP=web/node_modules/.landgeo-installed
OUT=landgeo/tiles/static/vendor
DIST=web/node_modules/maplibre-gl/dist
if [ -f "$STAMP" ] && [ "$STAMP" -nt web/package-lock.json ] && [ -f "$OUT/maplibre-gl.js" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing: npm (for the browser libraries of the HTML pages and the web map)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null 2>&1 || true
  fi
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "warning: npm not found: the HTML pages have no map or styles and /map no MapLibre (install npm, run make again)" >&2
  exit 0
fi
echo "installing the browser libraries (npm ci in web/) ..."
npm ci --prefix web --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
mkdir -p "$OUT"
cp "$DIST/maplibre-gl.js" "$DIST/maplibre-gl.css" "$DIST/LICENSE.txt" "$OUT/"
touch "$STAMP"
