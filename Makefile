# The two commands a newcomer needs: `make run` and `make test`.
# Python 3.11 or newer. `make run HOST=0.0.0.0 PORT=8080` serves elsewhere.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# WebSocket handshakes must come from the site's own origin: follow HOST and PORT.
KORYU_SITE_URL ?= http://$(HOST):$(PORT)

.PHONY: run test lint typecheck imports pytest bench install clean messages screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the project's dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/koryu migrate
	$(BIN)/koryu demo
	KORYU_SITE_URL=$(KORYU_SITE_URL) $(BIN)/koryu serve --host $(HOST) --port $(PORT)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

imports: $(VENV)/.installed-test
	$(BIN)/lint-imports

pytest: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck imports pytest

bench: $(VENV)/.installed-test
	$(BIN)/python -m bench $(BENCH_ARGS)

messages: $(VENV)/.installed-test
	$(BIN)/pybabel extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 -o /tmp/koryu-messages.pot .
	$(BIN)/pybabel update -i /tmp/koryu-messages.pot -d forum/locale --no-fuzzy-matching

# Every page type at 1280×800 and 390×844 (ja and en, light and dark) into var/screenshots,
# checked by axe as they are taken; the few the README shows are copied to docs/screenshots.
KORYU_TEST_BROWSER ?= /usr/bin/chromium
SHOWN := thread-ja-1280-light board-ja-390-light thread-en-390-dark
screenshots: $(VENV)/.installed-test
	rm -rf var/screenshots
	KORYU_TEST_BROWSER=$(KORYU_TEST_BROWSER) KORYU_SCREENSHOT_DIR=var/screenshots \
		$(BIN)/python -m pytest -q tests/browser/test_look.py -k "axe and (thread or board)"
	for name in $(SHOWN); do cp var/screenshots/$$name.png docs/screenshots/; done

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
