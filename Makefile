# The two commands that matter: `make run` and `make test`. Each sets up .venv itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
EXTRAS := local,infra,gui,dev

.PHONY: run test lint typecheck unit integration bench stack clean soak screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --editable '.[$(EXTRAS)]'
	touch $(STAMP)

## Open the desktop app on the local stack: starts the stack if it is not running, creates a
## demo user on first run (printing its password). Without a display, the stack alone runs.
run: $(STAMP)
	$(BIN)/filevault app

## Render the main screens under Xvfb (the real xcb platform, installed here if missing)
## into docs/screenshots/.
XVFB_PACKAGES := xvfb libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 \
	libxcb-image0 libxcb-render-util0 libxcb-xinerama0 libxcb-randr0 libxcb-shape0 libegl1 \
	libgl1 libfontconfig1

screenshots: $(STAMP)
	command -v xvfb-run >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y $(XVFB_PACKAGES); }
	FILEVAULT_SCREENSHOTS_DIR=docs/screenshots xvfb-run -a -s "-screen 0 1600x1000x24" \
		env QT_QPA_PLATFORM=xcb $(BIN)/pytest tests/gui/test_screenshots.py -q -p no:randomly

## Lint, type-check and run every test suite except the benchmarks.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest tests --ignore=tests/benchmarks -m "not bench"

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
	# Bytecode as an installed package has it (an editable install under
	# PYTHONDONTWRITEBYTECODE would compile our modules again at every CLI start).
	$(BIN)/python -m compileall -q filevault_desktop backend
	FILEVAULT_BENCH_AWS=$(AWSCLI) FILEVAULT_BENCH_RCLONE="$$(command -v rclone)" \
		$(BIN)/pytest tests/benchmarks -s -p no:randomly --timeout 28800
	$(BIN)/pytest tests/gui -m bench -s -p no:randomly --timeout 3600

## Long randomized sync runs (not part of `make test`): the fake-remote test with SOAK_EXAMPLES
## fresh examples, then the real-stack test with SOAK_SEEDS fresh seeds (each failing seed is
## printed; replay one with SYNC_SEED=<seed>). Both run even if the first fails.
SOAK_EXAMPLES ?= 5000
SOAK_SEEDS    ?= 2000

soak: $(STAMP)
	status=0; \
	SYNC_SOAK_EXAMPLES=$(SOAK_EXAMPLES) $(BIN)/pytest tests/unit/test_sync_random.py \
		-p no:randomly --timeout 0 || status=1; \
	SYNC_SOAK_SEEDS=$(SOAK_SEEDS) $(BIN)/pytest tests/integration/test_sync_random_stack.py \
		-p no:randomly -k random_two_client || status=1; \
	exit $$status

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache bench-results
