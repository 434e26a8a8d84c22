# Public commands: make install | run | test | bench | lint | browser-deps | axe-core
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-fast bench lint browser-deps axe-core demo clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## Start the app on the embedded synthetic Kent demo (or PLACEMAP_DATA_DIR).
run: install
	$(BIN)/placemap serve

## Debian packages the browser tests need (Chromium + chromedriver); skipped when present.
browser-deps:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then \
		echo "browser-deps: chromium and chromedriver present"; \
	else \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver poppler-utils; \
	fi
	@command -v pdftotext >/dev/null 2>&1 || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends poppler-utils; }

## axe-core (MPL-2.0), the accessibility rules the browser tests run, from the npm registry
## at a pinned version into .cache/ (not committed: 650 KB of someone else's build).
AXE_VERSION := 4.14.1
AXE_DIR := .cache/axe-core-$(AXE_VERSION)

axe-core: $(AXE_DIR)/axe.min.js

$(AXE_DIR)/axe.min.js:
	@command -v npm >/dev/null 2>&1 || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends npm; }
	@rm -rf $(AXE_DIR).tmp && mkdir -p $(AXE_DIR).tmp
	cd $(AXE_DIR).tmp && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null && \
		tar -xzf axe-core-$(AXE_VERSION).tgz --strip-components=1 package/axe.min.js package/LICENSE && \
		rm axe-core-$(AXE_VERSION).tgz
	@rm -rf $(AXE_DIR) && mv $(AXE_DIR).tmp $(AXE_DIR)

## The whole test suite (unit + browser). Benchmarks live in `make bench`.
test: install browser-deps axe-core
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not browser"

bench: install
	$(BIN)/python -m benchmarks.run

lint: install
	$(BIN)/ruff check geo app tests benchmarks
	$(BIN)/ruff format --check geo app tests benchmarks
	$(BIN)/mypy

demo: install
	$(BIN)/placemap demo --out demo-data

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
