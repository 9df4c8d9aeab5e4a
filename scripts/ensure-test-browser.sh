#!/bin/sh
# `make test` only: headless Chromium (Debian's `chromium`) for the web map test (tests/test_map_browser.py).
# Installs it with apt-get when run as root; otherwise the test is skipped with the reason.
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium (headless browser for the web map test) ..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null; } \
        || echo "warning: chromium could not be installed: the web map browser test will be skipped" >&2
else
    echo "chromium not installed: the web map browser test will be skipped (apt-get install chromium)" >&2
fi
exit 0
