# Two commands on a fresh machine: `make run` (install, demo corpus, web UI) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXTRAS := local,pii,postgres,participation,forecast
export TERRITORIA_HOME ?= $(CURDIR)/.home

.PHONY: install run demo test lint fix bench clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip uv

# Bytecode compiled at install: a cold `territoria ask` then reads .pyc files instead of compiling
# every module it imports (1.5 -> 0.9 s on the demo; where PYTHONDONTWRITEBYTECODE is set, no
# later run would ever write them).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/uv pip install --compile-bytecode --python $(BIN)/python -e ".[$(EXTRAS)]" --group dev
	$(BIN)/python -m compileall -q src
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/territoria demo

run: demo
	$(BIN)/territoria serve

# Browser tests (tests/web): Debian chromium driven by Playwright, axe-core from npm.
browser:
	@test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium fonts-dejavu-core fonts-liberation)
	@test -f node_modules/axe-core/axe.min.js || npm ci --no-audit --no-fund

test: install browser
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/mypy

fix: install
	$(BIN)/ruff check --fix src tests bench scripts
	$(BIN)/ruff format src tests bench scripts

bench: install  # long (about 30 min on 2 cores): figures in bench/results/
	for b in bench_pdf bench_ingest calibrate_abstain bench_answers bench_retrieval \
	         bench_pii bench_injection bench_participation bench_page_weight bench_load; do \
	  $(BIN)/python bench/$$b.py || exit 1; done

clean:
	rm -rf $(VENV) .home .pytest_cache .mypy_cache .ruff_cache node_modules
