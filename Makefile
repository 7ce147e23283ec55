# Two commands for a new machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DB     ?= data/hipline.duckdb
# hipline's own modules compiled to bytecode up front: where PYTHONDONTWRITEBYTECODE is set (this machine
# sets it), every process would otherwise compile them again from source (75 ms of a day's load, more for
# each server the tests start). Python ignores a compiled file whose source has changed since.
COMPILE = $(BIN)/python -m compileall -q -j 0 access analytics dashboard etl hipline presentation reports

.PHONY: demo cluster-demo test lint bench bench-cluster clean

demo: $(VENV)/.installed  ## build .venv, generate + load demo data, serve http://127.0.0.1:8050
	@$(COMPILE)
	$(BIN)/hipline demo --db $(DB)

cluster-demo: $(VENV)/.installed  ## a clinic network here: PostgreSQL + Redis + two web hosts (needs postgresql, redis-server)
	@$(COMPILE)
	$(BIN)/hipline cluster-demo

test: $(VENV)/.installed  ## run every test (browser tests need /usr/bin/chromium)
	@$(COMPILE)
	$(BIN)/pytest -q -n 2 --dist worksteal --durations=15

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

bench: $(VENV)/.installed  ## the loader benchmark on 10 000 clients, then the metrics benchmark on 1 000-10 000 (several minutes each)
	@$(COMPILE)
	$(BIN)/python benchmarks/bench_load.py
	$(BIN)/python benchmarks/bench_metrics.py

bench-cluster: $(VENV)/.installed  ## the clinic network on 10 000 clients: loads and refresh, pages, 50 users on two hosts (needs postgresql, redis-server, chromium; about 10 minutes)
	$(BIN)/python benchmarks/bench_cluster.py

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("hipline needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The installed packages compiled to bytecode on every core rather than by pip, one file at a time:
	# the same 8 666 files, and .venv built in 30 s instead of 38 s (a fresh clone's `make test` starts here).
	$(BIN)/pip install --quiet --no-compile -e ".[dev]"
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib
	touch $@

clean:
	rm -rf $(VENV) data/demo data/cluster data/hipline.duckdb* .pytest_cache
