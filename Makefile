# The two commands that matter: `make run` and `make test`. Each sets up .venv itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
EXTRAS := local,infra,gui,dev

.PHONY: run test lint typecheck unit integration bench stack clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --editable '.[$(EXTRAS)]'
	touch $(STAMP)

## Start the local stack (creating a demo user on first run) and say how to sign in.
run: $(STAMP)
	$(BIN)/filevault stack up --demo-user

## Lint, type-check and run every test suite except the benchmarks.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest tests --ignore=tests/benchmarks

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest tests/unit tests/backend

integration: $(STAMP)
	$(BIN)/pytest tests/integration

## Benchmarks (not part of `make test`); results land in bench-results/.
## Installs its peers first: Debian's rclone, and awscli in its own venv (.venv-peers) so its
## pinned botocore never touches the project's. FILEVAULT_BENCH_SCALE=0.05 for a smoke run.
PEERS_VENV := .venv-peers
AWSCLI     := $(PEERS_VENV)/bin/aws
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(AWSCLI):
	$(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PEERS_VENV)/bin/python -m pip install --quiet awscli

bench: $(STAMP) $(AWSCLI)
	command -v rclone >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y rclone; }
	FILEVAULT_BENCH_AWS=$(AWSCLI) FILEVAULT_BENCH_RCLONE="$$(command -v rclone)" \
		$(BIN)/pytest tests/benchmarks -s -p no:randomly --timeout 28800

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache bench-results
