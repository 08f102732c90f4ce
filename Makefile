# streamviz developer commands. Every target sets up its own virtual environment first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
# The widget front-end: js/ bundled into the package (also done by the install's build hook).
JS_DEPS := js/node_modules/.package-lock.json
JS_BUNDLE := streamviz/static/widget.js
JS_SOURCES := $(shell find js/src -type f 2>/dev/null) js/build.mjs streamviz/widgets/contract.json

.PHONY: setup test demo bench clean

# The install builds the C speedups too (hatch_build.py): again when their source changes.
$(STAMP): pyproject.toml streamviz/_speedups.c hatch_build.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# uv resolves and installs in seconds; plain pip is the fallback when uv cannot be had.
	($(BIN)/python -m pip install -q uv && $(BIN)/uv pip install --python $(BIN)/python -e ".[test]") \
	  || $(BIN)/python -m pip install -q -e ".[test]"
	touch $(STAMP)

$(JS_DEPS): js/package-lock.json
	cd js && npm ci --no-audit --no-fund

$(JS_BUNDLE): $(JS_DEPS) $(JS_SOURCES)
	cd js && npm run build --silent

setup: $(STAMP) $(JS_BUNDLE)

test: setup
	$(BIN)/ruff check streamviz tests bench
	$(BIN)/ruff format --check streamviz tests bench
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	cd js && npm run check --silent
	cd js && node --test test/

demo: setup
	$(BIN)/python -m streamviz demo

bench: setup
	$(BIN)/python bench/run.py
	$(BIN)/python bench/live.py
	$(BIN)/python bench/remote.py --rounds 11
	$(BIN)/python bench/browser.py
	$(BIN)/python bench/paint.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/conversation.py
	$(BIN)/python bench/memory.py

clean:
	rm -rf $(VENV) build dist .pytest_cache js/node_modules streamviz/static
