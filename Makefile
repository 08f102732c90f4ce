# streamviz developer commands. Every target sets up its own virtual environment first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: setup test demo bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# uv resolves and installs in seconds; plain pip is the fallback when uv cannot be had.
	($(BIN)/python -m pip install -q uv && $(BIN)/uv pip install --python $(BIN)/python -e ".[test]") \
	  || $(BIN)/python -m pip install -q -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	cd js && node --test test/

demo: setup
	$(BIN)/python -m streamviz demo

bench: setup
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build dist .pytest_cache
