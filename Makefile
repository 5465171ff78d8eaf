# The two commands: `make demo` and `make test` (both set everything up first).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install chromium demo test test-fast lint lock clean images

install: $(STAMP)

# Idempotent: re-runs pip only when pyproject.toml or the lock file changed.
$(STAMP): pyproject.toml constraints.txt setup.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test]"
	@# plotly.js's smaller partial bundle for the dashboards, from the npm registry when npm is here (optional)
	@$(BIN)/python -m workbench.dashboards.assets
	@touch $(STAMP)

# Browser tests drive Debian's Chromium (never a downloaded browser); CI runs as root on a bare machine.
CHROMIUM ?= /usr/bin/chromium
chromium:
	@test -x $(CHROMIUM) || { \
	  if command -v apt-get >/dev/null 2>&1; then \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; \
	  else echo "Chromium not found at $(CHROMIUM) and apt-get unavailable: browser tests need it" >&2; fi; }

# Trains, compresses, runs the monitoring reports on simulated batches, then serves the dashboards.
demo: install
	$(BIN)/workbench demo

# Lint first: a long or unformatted line fails `make test` (and so CI, which runs it) before any test.
# Two pytest-xdist workers: most slow tests wait on kernels, servers and subprocesses, not on the CPU.
# Whole files go to a worker (a module's fixtures are set up once), the heaviest first (tests/conftest.py).
# (Not loadgroup: with pytest 9.2 pytest-xdist 3.8 silently ignores xdist_group.) Serially: PYTEST_ARGS=
PYTEST_ARGS ?= -n 2 --dist loadfile --no-loadscope-reorder
test: install chromium lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: install
	$(BIN)/python -m pytest -m "not slow and not browser and not notebook"

# ruff's lint rules (line length 110 included) and its formatter, both from pyproject.toml's [tool.ruff].
LINTED := workbench tests benchmarks docs
lint: install
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)

# The README's pictures: the browser tests take the screenshots, docs/make_images.py shrinks them.
images: install chromium
	$(BIN)/python -m pytest -q tests/test_browser.py tests/test_jupyterlab.py -k "index or run_page or train_notebook"
	$(BIN)/python docs/make_images.py

# Refresh the pinned lock file from the current environment.
lock:
	$(BIN)/python -m pip freeze --all --exclude-editable --disable-pip-version-check | grep -vE "^(workbench|pip)==" > constraints.txt

clean:
	rm -rf $(VENV) build dist *.egg-info
