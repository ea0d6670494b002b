# Two commands do all set-up: `make run` (serve on http://127.0.0.1:8000) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-16)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup run ingest scope test browser redis clean-index

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	@rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP)

# Idempotent: does nothing when the index matches the corpus and models.
ingest: setup
	$(PY) -m ingest

# The scope classifier (answer or refuse) for the live index: skipped when the
# cached or bundled model was fitted on this index version and scope set.
scope: ingest
	$(PY) -m qa_service fit-scope

run: scope
	$(PY) -m qa_service serve

# Debian's Chromium for the browser tests (no browser download from elsewhere).
browser:
	@{ command -v chromium && fc-list :lang=zh | grep -q . ; } >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

# Debian's redis-server for the shared rate-limit test (the test starts and stops its own on loopback).
redis:
	@command -v redis-server >/dev/null || { apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; }

test: setup browser redis
	$(PY) -m pytest

clean-index:
	rm -rf data/index data/chroma
