#!/bin/sh
# Install the scripts and styles of the API's HTML pages (Leaflet, Bootstrap, Swagger UI …) from the npm
# registry into web/node_modules, which `landgeo serve` serves under /assets/: the pages load nothing from a CDN.
# Without npm the pages still work, only without map or styles; say so and carry on.
set -e
cd "$(dirname "$0")/../web"
if [ -f node_modules/.landgeo-installed ] && [ node_modules/.landgeo-installed -nt package-lock.json ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing: npm (for the web assets of the HTML pages)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null 2>&1 || true
  fi
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "warning: npm not found: the HTML pages will have no map and no styles (install npm, run make again)" >&2
  exit 0
fi
npm ci --omit=dev --no-audit --no-fund --loglevel=error >/dev/null
touch node_modules/.landgeo-installed
