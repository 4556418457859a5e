# The two commands a newcomer needs:
#   make demo   - set up, build the AutoSales demo on DuckDB, export invoices, print a summary
#   make test   - set up and run every test (pytest, which also runs dbt build and its data tests),
#                 on two pytest-xdist workers, each test file whole on one worker
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# the DuckDB demo needs only the base install; the tests also run on Spark (pyspark: hundreds of MB)
TEST_STAMP := $(VENV)/.installed-test
export BILLING_DB ?= $(CURDIR)/billing.duckdb
export DBT_PROFILES_DIR := $(CURDIR)/profiles
LINT_PROCESSES ?= 2

.PHONY: demo test pytest setup clean compile browser lint

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $(STAMP)

# One install of the base and the extras (a second resolve of the base costs CI about 5 s), by uv: on a
# new machine 35 s against pip's 80 s (pyspark is a 300 MB sdist, which pip builds into a wheel,
# compresses, unpacks and byte-compiles). The same pinned ranges; pip does it where uv cannot (an index
# that only pip's configuration names, say).
# Where the index answers every revalidation as modified (this machine's proxy does), uv fetches and
# builds pyspark again on each new venv and keeps each build in its cache: about 1 GB a clean clone,
# which filled the disk once. `uv cache prune` then drops the builds nothing refers to (a few seconds).
# uv writes bytecode as pip does (--compile-bytecode, about 15 CPU-s): where PYTHONDONTWRITEBYTECODE is set
# (this machine), Python would otherwise compile dbt's modules again in every process, 3.7 s each.
$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet 'uv>=0.13,<0.14' && \
	  $(BIN)/uv pip install --quiet --native-tls --compile-bytecode --python $(BIN)/python -e '.[dev,spark]' && \
	  { $(BIN)/uv cache prune --quiet || true; } || \
	  $(BIN)/pip install --quiet -e '.[dev,spark]'
	touch $(STAMP) $(TEST_STAMP)

setup: $(TEST_STAMP)

demo: $(STAMP)
	$(BIN)/billing demo --out demo_output

# The usage-statement test opens a page in headless Chromium (Debian's package; no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
	  echo "Installing Debian's chromium for the statement test"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Lint runs beside pytest, whose two workers leave part of the two cores idle (about 50 s less in all
# on this machine); `make test` fails if either fails. Lint's few lines print among pytest's dots.
# There sqlfluff runs in one process (the cores are busy anyway; its pool of two, ending beside
# pytest, printed warnings about leaked semaphores).
# The install and the browser's come first, side by side (each waits on the network part of the time).
test:
	$(MAKE) --no-print-directory --jobs=2 setup browser
	$(BIN)/billing compile --check
	$(MAKE) --no-print-directory --jobs=2 lint pytest LINT_PROCESSES=1

pytest: $(TEST_STAMP)
	$(BIN)/pytest -q -n 2 --dist loadfile --no-loadscope-reorder --durations=15

# Lint; fails on any finding. Python: ruff (pyproject.toml). SQL: sqlfluff (.sqlfluff, .sqlfluffignore) over
# models/ and tests/dbt/, on LINT_PROCESSES processes (2; 1 beside pytest); its dbt templater renders each
# model with dbt on a new, empty DuckDB file (removed after) and leaves target/partial_parse.msgpack.
# scripts/lint_sql.py skips each file that passed exactly as it is now (.sqlfluff-passed, committed: the key
# covers the file, the macros, the configs and the tools' versions); `make lint LINT_ALL=1` lints every file.
lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	lint_dir=$$(mktemp -d) && trap 'rm -rf "$$lint_dir"' EXIT && \
	  BILLING_DB=$$lint_dir/lint.duckdb $(BIN)/python scripts/lint_sql.py --processes $(LINT_PROCESSES) $(if $(LINT_ALL),--all)

compile: $(STAMP)
	$(BIN)/billing compile

clean:
	rm -rf $(VENV) target dbt_packages logs demo_output billing.duckdb billing.duckdb.wal
