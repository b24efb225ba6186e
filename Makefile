# The two commands a newcomer needs: `make run` and `make test`. Both create the virtualenv
# and install the pinned dependencies first when they are missing or stale.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-fast lint protos bench clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/alliance up

test: install
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m 'not slow'

lint: install
	$(BIN)/ruff check services tests bench protos
	$(BIN)/lint-imports
	cd protos && ../$(BIN)/buf lint && ../$(BIN)/buf breaking --against '../.git#branch=main,subdir=protos'
	$(BIN)/mypy

protos: install
	$(BIN)/python protos/generate.py

bench: install
	$(BIN)/python -m bench.membership_bench
	$(BIN)/python -m bench.federation_bench
	$(BIN)/python -m bench.pairing_bench
	$(BIN)/python -m bench.sharing_bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
