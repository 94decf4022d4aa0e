# Token and positional embeddings, step by step.
# Two commands are all you need: `make lab` and `make test`. Each sets up what is missing.
# Maintainers: docs/maintaining.md explains every other target.

SHELL := /bin/bash
.DEFAULT_GOAL := help
.SUFFIXES:

PYTHON ?= python3
# The newest Python the series supports: CI runs make test and the path without make with it too.
NEWEST_PYTHON ?= python3.13
# Debian 12's own Python (3.11.2), the oldest the series supports: CI runs the path without make with it.
OLDEST_PYTHON ?= /usr/bin/python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BROWSER_STAMP := $(VENV)/.browser-installed
CHROMIUM := /usr/bin/chromium
PORT ?= 8888
# The learner's own copy of the notebooks (git-ignored); the reference in notebooks/ stays untouched.
WORK ?= my-notebooks
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json
# No "get notified about Jupyter news?" popup and no update check: nothing over the notebook.
LAB_QUIET := --LabApp.news_url=None --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate
# Which notebooks `make regen` re-executes (default: all of them).
NOTEBOOKS ?=
# nbval in parallel: one worker per core (at most 8); each notebook stays in one worker, whose kernel
# runs its cells in order. Workers take files in the order tools/longest_first.py gives (slow notebooks
# first), and each kernel uses one thread (unless OMP_NUM_THREADS says otherwise): two kernels that each
# start a thread per core slow each other down (docs/maintaining.md, "How long make test takes").
WORKERS ?= $(shell n=$$(nproc 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null || echo 2); echo $$((n < 8 ? n : 8)))
PYTEST_PARALLEL := -n $(WORKERS) --dist loadscope --no-loadscope-reorder
ONE_THREAD_PER_KERNEL := OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1}

# Inline figures need matplotlib's notebook backend; an MPLBACKEND from the shell would remove them.
unexport MPLBACKEND
# The project's kernelspec comes first, whatever other Jupyter installs the machine has.
export JUPYTER_PATH := $(CURDIR)/$(VENV)/share/jupyter
export JUPYTER_PLATFORM_DIRS := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Matplotlib's settings and font cache live in the venv: a matplotlibrc, or a font cache written by
# another matplotlib on this machine, cannot change what the notebooks print.
export MPLCONFIGDIR := $(CURDIR)/$(VENV)/matplotlib

ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
CHAPTERS = $(shell $(BIN)/python -m tools.series chapters)

.PHONY: help setup data lab reset edit-reference test test-slow test-newest-python unit lint nbval ci slides html wheelhouse \
	test-browser mutation-check flake-check portability-check portability-arm offline-check no-make-check colab-check bench regen drift nbdime constraints clean

help: ## List the targets
	@echo "Token and positional embeddings: the two commands you need"
	@echo "  make lab    set up what is missing, then open JupyterLab on your own copy of the notebooks"
	@echo "  make test   set up what is missing, then run the tests (lint, unit tests, every notebook)"
	@echo
	@echo "All targets:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)/\1\t\2/' | \
	  awk -F '\t' '{ printf "  make %-18s %s\n", $$1, $$2 }'

# The virtual environment is rebuilt from scratch when the pins change, so it never keeps packages
# that were removed from them.
$(STAMP): requirements.txt constraints.txt pyproject.toml
	@$(PYTHON) -c 'pass' 2>/dev/null || { echo "==> cannot run PYTHON=$(PYTHON) on this machine. Install Python 3.11, 3.12 or 3.13, and name it: make $(or $(MAKECMDGOALS),setup) PYTHON=python3.12"; exit 1; }
	@$(PYTHON) tools/python_check.py
	@echo "==> Creating $(VENV) with $$($(PYTHON) --version 2>&1) ($(PYTHON); choose another with PYTHON=python3.12)"
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	@$(BIN)/python tools/torch_build.py requirements.txt "make $(or $(MAKECMDGOALS),setup)"
	@echo "==> Installing the pinned packages: torch is the largest (a few minutes on a slow network)"
	$(BIN)/python -m pip install --progress-bar on -r requirements.txt -c constraints.txt
	@echo "==> Installing this series' package (src/embeddings_course) in editable mode"
	$(BIN)/python -m pip install --quiet --no-deps -c constraints.txt -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)" >/dev/null
	touch $@
	@echo "==> $(VENV) is ready"

setup: $(STAMP) $(LAB_SETTINGS) data ## Create .venv from the pins and check the corpus

$(LAB_SETTINGS): tools/jupyterlab-overrides.json $(STAMP)
	mkdir -p $(dir $@)
	cp $< $@

CORPUS_DIR := data
data: ## Check data/ (the corpus) against its SHA256SUMS; restore a missing or changed file from git
	@if ! (cd $(CORPUS_DIR) 2>/dev/null && sha256sum --quiet --check SHA256SUMS 2>/dev/null); then \
	  echo "==> $(CORPUS_DIR)/ is missing or differs from its SHA256SUMS: restoring it from git"; \
	  git checkout -- $(CORPUS_DIR) && cd $(CORPUS_DIR) && sha256sum --check SHA256SUMS; \
	fi

lab: setup ## Open JupyterLab on your own copy of the notebooks, my-notebooks/ (127.0.0.1, token; PORT=8888)
	@$(BIN)/python -m tools.learner_copy ensure $(WORK)
	@token=$$($(BIN)/python -c "import secrets; print(secrets.token_hex(24))"); \
	echo "==> Starting JupyterLab on your copy, $(WORK)/. Open this link in your browser:"; \
	echo "        http://127.0.0.1:$(PORT)/lab/tree/index.ipynb?token=$$token"; \
	echo "    Stop it with Ctrl+C twice in this terminal. Start over with: make reset"; \
	JUPYTER_TOKEN=$$token $(BIN)/jupyter lab --ServerApp.root_dir=$(WORK) --ServerApp.ip=127.0.0.1 \
	  --ServerApp.port=$(PORT) $(LAB_QUIET) $(ROOT_FLAG) $(LAB_ARGS) $(WORK)/index.ipynb

reset: ## Start over: keep your copy as my-notebooks-backup-<date>/, make a fresh my-notebooks/
	@$(PYTHON) -m tools.learner_copy reset $(WORK)

edit-reference: setup ## Maintainers: JupyterLab on the reference notebooks/ themselves (then make regen)
	@echo "==> Editing the REFERENCE notebooks: what you save here is what the tests compare against."
	$(BIN)/jupyter lab --ServerApp.root_dir=notebooks --ServerApp.ip=127.0.0.1 --ServerApp.port=$(PORT) \
	  $(LAB_QUIET) $(ROOT_FLAG) $(LAB_ARGS)

test: setup ## Lint, unit and integration tests, then nbval re-runs every notebook against its stored outputs
	$(BIN)/ruff check --quiet .
	$(ONE_THREAD_PER_KERNEL) $(BIN)/python -m pytest $(PYTEST_PARALLEL) -m "not slow" tests notebooks --nbval --nbval-current-env

test-newest-python: ## make test again with NEWEST_PYTHON (python3.13), in its own venv, .venv-newest
	$(MAKE) --no-print-directory test PYTHON=$(NEWEST_PYTHON) VENV=.venv-newest

test-slow: setup ## The tests that build venvs or run kernel matrices: drift, portability, the Colab stand-in (in make ci)
	$(BIN)/python -m pytest $(PYTEST_PARALLEL) -m "slow and not arm64" tests

unit: setup ## Only the fast unit tests (no JupyterLab, no regen, no notebooks)
	$(BIN)/python -m pytest -m "not integration" tests

lint: setup ## ruff over the package, tools, tests and notebooks
	$(BIN)/ruff check .

nbval: setup ## Only the notebooks, under nbval
	$(ONE_THREAD_PER_KERNEL) $(BIN)/python -m pytest $(PYTEST_PARALLEL) notebooks --nbval --nbval-current-env

ci: test test-newest-python test-slow test-browser mutation-check flake-check portability-check offline-check no-make-check colab-check test-hub ## Everything CI runs (.ci/run and the GitHub workflow call this)

# Slides and HTML that work with no network: reveal.js, require.js, jQuery and Font Awesome come
# from the npm registry once, at build time, and are copied next to the pages that use them.
WEB_ASSETS := reveal.js@4.6.0 requirejs@2.3.8 jquery@3.8.0 font-awesome@4.7.0
VENDOR := build/vendor/node_modules
NBCONVERT := $(BIN)/jupyter nbconvert --config tools/nbconvert_config.py

$(VENDOR)/.installed:
	@command -v npm >/dev/null || { echo "make slides and make html need npm (Node.js) once, to fetch reveal.js: install nodejs and npm"; exit 1; }
	npm install --prefix build/vendor --no-save --no-package-lock --no-audit --no-fund --loglevel=error $(WEB_ASSETS)
	touch $@

define copy_vendor
	mkdir -p $(1)/vendor
	cp -r $(VENDOR)/reveal.js $(VENDOR)/requirejs $(VENDOR)/jquery $(VENDOR)/font-awesome $(1)/vendor/
endef

slides: setup $(VENDOR)/.installed ## Build offline reveal.js decks of the chapters into build/slides/
	rm -rf build/slides
	$(call copy_vendor,build/slides)
	$(NBCONVERT) --to slides --output-dir build/slides $(CHAPTERS)
	@echo "==> open build/slides/01_token_embeddings.slides.html in a browser (works offline)"

html: setup $(VENDOR)/.installed ## Render every notebook with its outputs into build/html/ with an index page
	rm -rf build/html
	$(call copy_vendor,build/html)
	$(NBCONVERT) --to html --output-dir build/html $(CHAPTERS)
	$(NBCONVERT) --to html --output-dir build/html/solutions \
	  --HTMLExporter.require_js_url=../vendor/requirejs/require.js $$($(BIN)/python -m tools.series solutions)
	$(BIN)/python -m tools.build_html_index build/html

wheelhouse: ## Download every pinned package into wheelhouse/, for machines with no network (see docs/teaching.md)
	$(PYTHON) -m pip wheel --wheel-dir wheelhouse -r requirements.txt -r requirements-browser.txt -c constraints.txt setuptools==84.2.1 .
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
	$(BIN)/python -m pytest browser_tests

mutation-check: setup ## Change one number in every stored output; nbval must fail on exactly those cells
	$(BIN)/python -m tools.mutation_check

flake-check: setup ## Run the notebooks twice with different PYTHONHASHSEED; no output may differ
	$(BIN)/python -m tools.flake_check

portability-check: setup ## nbval again under other threads, torch kernels, oneDNN off and MKL branches; no output may differ
	$(BIN)/python -m tools.portability_check

# Not in make ci (docs/maintaining.md, "make portability-arm"). The root and venv are cached in
# /var/cache/embeddings-course/arm64 (or EMBEDDINGS_ARM64_CACHE), outside the clone. After the check, whatever
# its result, the test that its probe catches qemu's wrong SVE products (it needs that cache).
portability-arm: setup ## nbval on arm64 Linux under qemu, 30 min per notebook (needs root; not in make ci)
	$(BIN)/python -m tools.portability_arm; status=$$?; \
	$(BIN)/python -m pytest -m arm64 tests/test_portability_arm.py && exit $$status

offline-check: setup ## Run nbval in a network namespace with no network (needs root and unshare)
	tools/offline_check.sh $(BIN)/python

no-make-check: ## The README's path without make, with OLDEST_PYTHON and NEWEST_PYTHON: a fresh venv, pip, nbval
	$(PYTHON) -m tools.no_make_check $(OLDEST_PYTHON) $(NEWEST_PYTHON)

# Python 3.13 and Colab's packages in a venv cached outside the clone (EMBEDDINGS_COURSE_COLAB_CACHE, default
# /var/cache/embeddings-course), a google.colab stand-in in the kernel, each notebook alone in an empty folder.
colab-check: setup ## Every notebook as in Colab (Python 3.13, Colab's torch, numpy, ...; a google.colab stand-in); build/colab/
	$(BIN)/python -m tools.colab_check

bench: setup ## Wall time and peak memory of each chapter against a floor (figures, not a test)
	$(BIN)/python -m tools.bench

regen: setup ## Re-execute every notebook (or NOTEBOOKS=...) in place; a notebook that fails stays untouched
	$(BIN)/python -m tools.regen_notebooks $(NOTEBOOKS)

# PKG=name==version, e.g. make drift PKG=torch==2.14.1
PKG ?=
drift: setup ## PKG=name==version: every notebook with that one pin changed, in a throw-away venv; build/drift/
	$(BIN)/python -m tools.drift "$(PKG)"

nbdime: setup ## Install nbdime and make `git diff` show notebooks cell by cell (this repository only)
	$(BIN)/python -m pip install --quiet -c constraints.txt nbdime
	$(BIN)/nbdime config-git --enable
	@echo "==> git diff now shows notebook changes cell by cell; or run $(BIN)/nbdiff-web for a page in the browser"

constraints: ## Re-pin constraints.txt from a fresh install of the requirements
	rm -rf .venv-freeze
	$(PYTHON) -m venv .venv-freeze
	.venv-freeze/bin/python -m pip install --quiet -r requirements.txt -r requirements-browser.txt nbdime
	{ echo "# Every package in .venv, pinned (pip freeze of a fresh install of requirements.txt,"; \
	  echo "# requirements-browser.txt and nbdime). Refresh with: make constraints"; \
	  .venv-freeze/bin/python -m pip freeze | sed -E 's/^torch==([0-9.]+)\+cpu$$/torch==\1/'; } > constraints.txt
	rm -rf .venv-freeze

clean: ## Remove .venv, caches and build output
	rm -rf $(VENV) .venv-newest .venv-freeze .cache build .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find . -name .ipynb_checkpoints -type d -prune -exec rm -rf {} +

# ---- Class server: JupyterHub for a class on one machine (docs/classroom-hub.md) -----------------
# make hub (CLASS_ROSTER=roster.txt; HUB_IP, HUB_PORT, ADMIN_USERS, HUB_IDLE_TIMEOUT), make hub-load
# STUDENTS=N, make test-hub. The hub and every student run from one shared, read-only environment.
HUB_ENV ?= /opt/embeddings-class
STUDENTS ?= 3
HUB_PROXY := hub/node_modules/.installed
.PHONY: hub hub-setup hub-load test-hub

$(HUB_PROXY): hub/package.json hub/package-lock.json
	@command -v npm >/dev/null || { echo "make hub needs npm (Node.js) for JupyterHub's proxy: apt-get install nodejs npm"; exit 1; }
	npm ci --prefix hub --no-audit --no-fund --loglevel=error
	touch $@

hub-setup: $(HUB_PROXY)
	@[ -x /usr/bin/python3.11 ] && /usr/bin/python3.11 -c 'import venv, ensurepip' 2>/dev/null || { \
	  [ "$$(id -u)" = 0 ] || { echo "make hub needs Debian's python3.11 and python3.11-venv: sudo apt-get install python3.11 python3.11-venv"; exit 1; }; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11 python3.11-venv git >/dev/null; }
	@HUB_ENV=$(HUB_ENV) bash hub/build_shared_env.sh 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)

hub: ## Start the class server (CLASS_ROSTER=file; 127.0.0.1:8000; see docs/classroom-hub.md)
	@python3 hub/roster.py
	@$(MAKE) --no-print-directory hub-setup
	$(HUB_ENV)/bin/python hub/launch.py

hub-load: setup hub-setup ## STUDENTS=N simulated students run 01-08 on a throw-away hub; build/hub-load/report.md
	$(BIN)/python -m tools.hub_load --students $(STUDENTS) --hub-env $(HUB_ENV)

test-hub: setup hub-setup $(BROWSER_STAMP) $(CHROMIUM) ## Class server: isolation, log-in, nbgitpuller, browser, hub-load STUDENTS=3
	HUB_ENV=$(HUB_ENV) $(BIN)/python -m pytest hub_tests -p no:cacheprovider
# ---- end of class server ---------------------------------------------------------------------------
