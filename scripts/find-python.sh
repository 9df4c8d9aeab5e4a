#!/bin/sh
# Print the path of a Python >= 3.12 interpreter, or explain what to install and fail.
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }
for cand in "${LANDGEO_PYTHON:-}" python3.13 python3.12 python3; do
  [ -n "$cand" ] || continue
  p=$(command -v "$cand" 2>/dev/null) || continue
  if ok "$p"; then echo "$p"; exit 0; fi
done
root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
for p in $(ls -d "$root"/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do
  if ok "$p"; then echo "$p"; exit 0; fi
done
echo "landgeo needs Python >= 3.12 (pygeoapi requires it): install python3.12 or python3.13, or set LANDGEO_PYTHON=/path/to/python3" >&2
exit 1
