# The two commands a newcomer needs: `make run` and `make test`. Both create the virtualenv
# and install the pinned dependencies first when they are missing or stale.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install promtool chromium postgresql run test test-fast lint protos bench screenshots clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# promtool checks the observability profile's Prometheus config and alert rules; it comes from
# Debian's prometheus package, installed here when missing (its tests are skipped without it).
promtool:
	@command -v promtool >/dev/null 2>&1 \
	  || apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1 \
	  || (apt-get update -qq >/dev/null 2>&1 \
	      && apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1) \
	  || echo "promtool could not be installed; the tests that need it are skipped"

# The portal's browser tests drive Debian's chromium (through Playwright, which downloads no
# browser); a CJK font makes its screenshots readable. Installed here when missing.
chromium:
	@command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi wenquanyi \
	  || apt-get install -y -qq --no-install-recommends chromium fonts-wqy-microhei >/dev/null 2>&1 \
	  || (apt-get update -qq >/dev/null 2>&1 \
	      && apt-get install -y -qq --no-install-recommends chromium fonts-wqy-microhei >/dev/null 2>&1) \
	  || echo "chromium could not be installed; the portal's browser tests are skipped"

# The API tests also run on PostgreSQL: Debian's server binaries, started by the tests on a free
# port in a folder of their own (the package's own cluster is not used). Installed when missing.
postgresql:
	@ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 \
	  || apt-get install -y -qq --no-install-recommends postgresql >/dev/null 2>&1 \
	  || (apt-get update -qq >/dev/null 2>&1 \
	      && apt-get install -y -qq --no-install-recommends postgresql >/dev/null 2>&1) \
	  || echo "postgresql could not be installed; the tests on PostgreSQL are skipped"

run: install
	$(BIN)/alliance up

test: install promtool chromium postgresql
	$(BIN)/python -m pytest

test-fast: install promtool chromium postgresql
	$(BIN)/python -m pytest -m 'not slow'

lint: install
	$(BIN)/ruff check services tests bench protos
	$(BIN)/lint-imports
	cd protos && ../$(BIN)/buf lint && ../$(BIN)/buf breaking --against '../.git#branch=main,subdir=protos'
	$(BIN)/mypy

protos: install
	$(BIN)/python protos/generate.py

bench: install postgresql
	$(BIN)/python -m bench.membership_bench
	$(BIN)/python -m bench.federation_bench
	$(BIN)/python -m bench.consumer_bench
	$(BIN)/python -m bench.pairing_bench
	$(BIN)/python -m bench.sharing_bench
	$(BIN)/python -m bench.observability_bench
	$(BIN)/python -m bench.portal_bench
	$(BIN)/python -m bench.storage_bench

# The README's two portal screenshots, taken by the browser tests.
screenshots: install chromium
	PORTAL_SCREENSHOTS_DIR=docs $(BIN)/python -m pytest tests/test_portal.py -q

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
