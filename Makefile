# `make run` runs the bot, `make test` runs every test, `make lint` the style and type checks;
# all set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONFIG ?= config.toml


.PHONY: run test lint venv clean browser lock deploy-tools routing-model

run: $(STAMP)
	$(BIN)/ehumas run --config $(CONFIG)

test: $(STAMP) browser deploy-tools
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

# The tools that check deploy/ (tests/test_deploy.py: nginx -t, promtool, systemd-analyze verify) and
# make PostgreSQL backups (pg_dump, tests/test_backup.py). Installed like Chromium above: with
# apt-get where this user can; elsewhere those tests are skipped and say why.
DEPLOY_TOOLS := nginx promtool pg_dump openssl
deploy-tools:
	@missing=""; for t in $(DEPLOY_TOOLS); do \
	  command -v $$t >/dev/null 2>&1 || [ -x /usr/sbin/$$t ] || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing$$missing for the deployment tests (apt-get)..."; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	      nginx prometheus postgresql-client openssl >/dev/null) \
	      || echo "Could not install$$missing: those deployment tests will be skipped."; \
	  else \
	    echo "Missing$$missing and no way to install here: those deployment tests will be skipped."; \
	  fi; \
	fi

venv: $(STAMP)

# Reinstall whenever the dependencies change. Every package comes from requirements.lock, pinned
# and checked against its hashes: each deployment runs exactly what the tests ran. (The project
# itself is installed on top, without dependencies and without fetching build tools: those are in
# the lock too.) `make lock` refreshes the lock after a change to pyproject.toml's dependencies.
$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# Re-resolve the dependencies of pyproject.toml (with the test extra and the build tools) into
# requirements.lock, with hashes. Upgrades within pyproject's ranges: `make lock LOCK_ARGS=--upgrade`.
lock:
	@test -x $(BIN)/pip-compile || $(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --all-build-deps --extra test --strip-extras \
	  --no-emit-index-url --no-emit-find-links $(LOCK_ARGS) -o requirements.lock pyproject.toml

# The routing model shipped with the bot (routing/data), trained on every labelled file but the
# held-out blind batch (ROUTING_HELD_OUT), so that the tests can still score text it never saw.
ROUTING_HELD_OUT := tests/data/routing_blind15.tsv
routing-model: $(STAMP)
	$(BIN)/ehumas routing train --config config.example.toml routing/data/opinion.txt.gz \
	  $(filter-out $(ROUTING_HELD_OUT),$(wildcard tests/data/routing_*.tsv))

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
