# The two commands a newcomer needs:
#   make demo   - set up, build the AutoSales demo on DuckDB, export invoices, print a summary
#   make test   - set up and run every test (pytest, which also runs dbt build and its data tests)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export BILLING_DB ?= $(CURDIR)/billing.duckdb
export DBT_PROFILES_DIR := $(CURDIR)/profiles

.PHONY: demo test setup clean compile

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,spark]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/billing demo --out demo_output

test: $(STAMP)
	$(BIN)/billing compile --check
	$(BIN)/pytest -q

compile: $(STAMP)
	$(BIN)/billing compile

clean:
	rm -rf $(VENV) target dbt_packages logs demo_output billing.duckdb billing.duckdb.wal
