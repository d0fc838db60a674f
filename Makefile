# Two commands do all set-up on a fresh machine with Python 3.11+:
#   make run    install and start the bot (the offline console when BOT_TOKEN is not set)
#   make test   install and run the checks and the tests
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run console test lint catalogs catalogs-check bench bench-smoke clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

compile: $(STAMP)
	$(BIN)/python -m tools.catalogs compile

run: $(STAMP) compile
	$(BIN)/python main.py

console: $(STAMP) compile
	$(BIN)/python main.py console

catalogs: $(STAMP)
	$(BIN)/python -m tools.catalogs update

catalogs-check: $(STAMP)
	$(BIN)/python -m tools.catalogs check

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(STAMP) compile catalogs-check
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) data/console.sqlite3*

bench: $(STAMP) compile
	$(BIN)/python -m bench.run --save

bench-smoke: $(STAMP) compile
	$(BIN)/python -m bench.run --users 1000 --scale 0.01 --updates 200 --db data/bench-smoke.sqlite3
