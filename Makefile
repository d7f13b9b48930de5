# `make run` runs the bot, `make test` runs every test, `make lint` the style and type checks;
# all set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONFIG ?= config.toml

.PHONY: run test lint venv clean browser

run: $(STAMP)
	$(BIN)/ehumas run --config $(CONFIG)

test: $(STAMP) browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# ruff (lint and format) and mypy (strict), as CI runs them; every check runs, any failure fails.
lint: $(STAMP)
	@status=0; \
	$(BIN)/ruff check . || status=1; \
	$(BIN)/ruff format --check . || status=1; \
	$(BIN)/mypy || status=1; \
	exit $$status

# The playground's browser test drives Debian's Chromium. Install it where this user can
# (root with apt-get); elsewhere the test is skipped and says why (under CI=true it fails instead).
browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Chromium for the browser test (apt-get)..."; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null) \
	      || echo "Could not install Chromium: the browser test will be skipped (under CI=true: failed)."; \
	  else \
	    echo "No Chromium and no way to install it here: the browser test will be skipped (under CI=true: failed)."; \
	  fi; \
	fi

venv: $(STAMP)

# Reinstall whenever the dependencies change.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
