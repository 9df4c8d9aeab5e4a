#!/bin/sh
# `make qgis`: make sure PyQGIS (Debian's python3-qgis) is installed for the system Python, so the QGIS
# project test (tests/test_qgis_project.py) runs for real and qgis/build_project.py can rebuild the project.
# Installs with apt-get when run as root; otherwise says what to run.
set -e
PY=/usr/bin/python3
if [ -x "$PY" ] && QT_QPA_PLATFORM=offscreen "$PY" -c "import qgis.core" >/dev/null 2>&1; then
    echo "PyQGIS present: $(QT_QPA_PLATFORM=offscreen "$PY" -c 'from qgis.core import Qgis; print(Qgis.version())' 2>/dev/null)"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "PyQGIS is missing and this system has no apt-get: install QGIS with its Python bindings (python3-qgis)" >&2
    exit 1
fi
if [ "$(id -u)" != "0" ]; then
    echo "PyQGIS is missing. Install it as root (about 900 MB):" >&2
    echo "    sudo apt-get update && sudo apt-get install -y python3-qgis" >&2
    exit 1
fi
echo "installing python3-qgis (about 900 MB, a few minutes) ..."
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-qgis >/dev/null
QT_QPA_PLATFORM=offscreen "$PY" -c "from qgis.core import Qgis; print('PyQGIS', Qgis.version())"
