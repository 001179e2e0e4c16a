# The two commands: `make demo` runs the main job, `make test` runs the whole suite.
# Each sets up what it needs (a virtual environment in .venv, and Debian's graphviz and
# chromium for the tests), and does nothing twice.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# setuptools tells every editable install of a package laid out as this one (nn/ installed as
# micrograd.nn) that a folder named like the package in the working directory takes
# precedence on import: here that folder is the package itself, so the 12-line notice,
# a newcomer's first screen otherwise, says nothing to act on.
EDITABLE := PYTHONWARNINGS="ignore:Editable installation" $(PY) -m pip install --quiet -e

.PHONY: demo test bench bench-quick lint graphviz chromium apt-install

demo: $(VENV)/.demo-installed graphviz
	$(VENV)/bin/micrograd demo

test: $(VENV)/.test-installed graphviz chromium
	$(PY) -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

bench: $(VENV)/.test-installed
	$(PY) -m benchmarks

bench-quick: $(VENV)/.test-installed
	$(PY) -m benchmarks --quick

lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel

$(VENV)/.demo-installed: $(VENV)/bin/python setup.cfg pyproject.toml
	$(EDITABLE) '.[demo]'
	touch $@

$(VENV)/.test-installed: $(VENV)/bin/python setup.cfg pyproject.toml
	$(EDITABLE) '.[test]'
	touch $@ $(VENV)/.demo-installed

# Debian's graphviz (the `dot` program, for drawings) and chromium (for the browser test),
# installed only when missing.
graphviz:
	@command -v dot >/dev/null || $(MAKE) --no-print-directory apt-install PACKAGES=graphviz

chromium:
	@command -v chromium >/dev/null || $(MAKE) --no-print-directory apt-install PACKAGES=chromium

apt-install:
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(PACKAGES) >/dev/null
