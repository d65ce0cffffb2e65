# The two commands that matter: `make dev` and `make test` (see CONTRACT §2).
# Everything runs from .venv, created with $(PYTHON) (3.11+) on first use; the project is
# re-installed only when pyproject.toml changes (stamp file .venv/.installed).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HISTORIES ?= $(wildcard tests/*/histories/*.json tests/*/*/histories/*.json)
TEST_PAYLOAD_KEYS := tests/workflows/histories/test-payload-keys

.PHONY: install dev test bench lint fmt migrate replay matrix fuzz clean distclean

install: $(STAMP)

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "ticketflow needs Python 3.11+; run e.g. make PYTHON=python3.12" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

dev: $(STAMP)
	$(BIN)/ticketflow dev $(ARGS)

test: $(STAMP)
	$(BIN)/pytest -q $(ARGS)

# The authorization matrix alone: every route × every kind of caller (docs/testing.md).
matrix: $(STAMP)
	$(BIN)/pytest -q tests/api/test_authorization_matrix.py $(ARGS)

# OpenAPI fuzzing beyond what `make test` runs (a fixed seed, a few examples per operation):
# `make fuzz SEED=7 EXAMPLES=200`; SEED=random picks one and prints it (docs/testing.md).
SEED ?= random
EXAMPLES ?= 50
fuzz: $(STAMP)
	TICKETFLOW_FUZZ_SEED=$(SEED) TICKETFLOW_FUZZ_EXAMPLES=$(EXAMPLES) TICKETFLOW_FUZZ_COVERAGE=all \
		$(BIN)/pytest -q tests/api/test_fuzz_openapi.py $(ARGS)

bench: $(STAMP)
	$(BIN)/ticketflow bench $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrate: $(STAMP)
	$(BIN)/ticketflow migrate

# Replays the checked-in histories; `make replay ARGS="--query 'TicketStatus = \"open\"'"`
# replays the server's workflows instead. The encrypted ones were recorded with the tests' key,
# given as extra keys: TICKETFLOW_PAYLOAD_KEYS, when set, still decrypts the server's.
replay: $(STAMP)
	$(BIN)/ticketflow replay --keys-file $(TEST_PAYLOAD_KEYS) $(HISTORIES) $(ARGS)

clean:
	rm -rf .mypy_cache .ruff_cache .pytest_cache .hypothesis build *.egg-info
	find . -name __pycache__ -type d -not -path './$(VENV)/*' -prune -exec rm -rf {} +

# Also the venv and the dev stack's data (tickets, Temporal state): a fresh start.
distclean: clean
	rm -rf $(VENV) .ticketflow
