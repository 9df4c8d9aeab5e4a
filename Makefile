# landgeo — two commands: `make demo` and `make test`. Everything else is set up on the way.
SHELL := /bin/sh
VENV  := .venv
PY    := $(VENV)/bin/python
LANDGEO := $(VENV)/bin/landgeo
STAMP := $(VENV)/.installed

.PHONY: demo test venv sysdeps db lint bench qgis clean

$(STAMP): pyproject.toml
	@test -x $(PY) || { PYTHON=$$(scripts/find-python.sh) && echo "creating $(VENV) with $$PYTHON" && $$PYTHON -m venv $(VENV); }
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

sysdeps:
	@scripts/ensure-system-deps.sh

db: venv sysdeps
	@scripts/ensure-web-assets.sh
	@$(LANDGEO) db up
	@$(LANDGEO) db migrate

test: db map-assets
	@scripts/ensure-test-browser.sh
	@$(VENV)/bin/ruff check landgeo landdb geobase loaders tests bench qgis
	@$(VENV)/bin/pytest -q -n 2 --dist loadfile

demo: db map-assets
	@$(PY) -m landgeo.demo

lint: venv
	@$(VENV)/bin/ruff check landgeo landdb geobase loaders tests bench qgis

bench: db
	@$(PY) -m pip install -q -e '.[test,bench]'
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; } || echo "wrk not installed: bench_api falls back to ab (apache2-utils)"
	@$(PY) bench/run_all.py $(BENCH_ARGS)

qgis:
	@scripts/ensure-qgis.sh

.PHONY: map-assets
map-assets:
	@scripts/ensure-web-assets.sh

clean:
	-@test -x $(LANDGEO) && $(LANDGEO) db down || true
	rm -rf $(VENV) .landgeo
