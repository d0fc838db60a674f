# Two commands do all set-up on a fresh machine with Python 3.11+:
#   make run    install and start the bot (the offline console when BOT_TOKEN is not set)
#   make test   install and run the checks and the tests
#
# What gets installed is exactly what uv.lock says (`uv sync --locked`: it also fails when the lock
# no longer matches pyproject.toml). `make upgrade` refreshes the lock and runs the tests.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# uv itself, pinned, in a small venv of its own (.tools/), so nothing but Python is needed first
UV_VERSION := 0.13.9
UV     := .tools/bin/uv
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never
# the console's language: make console lang=ru (LANG is the shell's locale, so not that name)
lang   ?=

.PHONY: run console test lint catalogs catalogs-check compile bench bench-multi bench-smoke clean upgrade

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/python -m pip install --quiet "uv==$(UV_VERSION)"

$(STAMP): pyproject.toml uv.lock $(UV)
	$(UV) sync --locked --extra dev --python "$$($(PYTHON) -c 'import sys; print(sys.executable)')" --quiet
	touch $(STAMP)

# refresh every locked version to the newest the ranges in pyproject.toml allow, then test
upgrade: $(UV)
	$(UV) lock --upgrade
	$(MAKE) test

compile: $(STAMP)
	$(BIN)/python -m tools.catalogs compile

run: $(STAMP) compile
	$(BIN)/python main.py

console: $(STAMP) compile
	$(BIN)/python main.py console $(if $(lang),--lang $(lang))

catalogs: $(STAMP)
	$(BIN)/python -m tools.catalogs update

catalogs-check: $(STAMP)
	$(BIN)/python -m tools.catalogs check

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(STAMP) compile catalogs-check
	$(BIN)/python -m pytest -n auto --dist worksteal

clean:
	rm -rf $(VENV) .tools data/console.sqlite3*

bench: $(STAMP) compile
	$(BIN)/python -m bench.run --save

bench-multi: $(STAMP) compile  # one instance, then two (one database, one Redis): a 10k outbox backlog (Redis needed)
	for n in 1 2; do KABINET_MULTI_INSTANCES=$$n KABINET_MULTI_BACKLOG=10000 KABINET_MULTI_RATE=400 \
	  $(BIN)/python -m pytest -q -s -p no:cacheprovider tests/test_multi_instance.py -k backlog || exit 1; done

bench-smoke: $(STAMP) compile
	$(BIN)/python -m bench.run --users 1000 --scale 0.01 --updates 200 --db data/bench-smoke.sqlite3
