# Two commands for a fresh Debian machine: `make demo` and `make test`. Each installs what it needs.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Qt 6's xcb platform plugin (a real window on an X display) links the xcb libraries on the second
# and third lines; xvfb gives the tests an X display to open that window on. Headless Chromium
# and its driver run the handheld page's browser tests (tests/web/).
DEB_PACKAGES := libzbar0 libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 \
	libdbus-1-3 libglib2.0-0 fonts-noto-cjk postgresql \
	libx11-6 libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 \
	libxcb-randr0 libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1 \
	libxcb-util1 libxcb-xfixes0 libxcb-xkb1 xvfb xauth chromium chromium-driver
export QT_QPA_PLATFORM ?= offscreen
# What mypy checks (strict; settings in pyproject.toml [tool.mypy]): add a package once it passes.
MYPY_PACKAGES := aggregation drivers

.PHONY: setup deps demo test lint typecheck format bench clean package

setup: deps $(STAMP)

# Debian packages: installed only when missing (apt-get as root, or through sudo).
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

$(STAMP): pyproject.toml
	@[ -x $(BIN)/python ] || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	@touch $(STAMP)

demo: setup
	$(BIN)/station demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	@$(MAKE) --no-print-directory typecheck

typecheck: setup
	$(BIN)/mypy $(MYPY_PACKAGES)

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: setup lint
	$(BIN)/python -m pytest tests

bench: setup
	$(BIN)/python bench/run_all.py

# A one-folder bundle of `station` (PyInstaller, the `package` extra; deploy/station.spec), then
# a smoke test of the bundle: --help, and a 50-item demo in a fresh folder with the sample config.
package: setup
	@$(BIN)/python -c "import PyInstaller" 2>/dev/null || $(BIN)/python -m pip install -q -e '.[package]'
	cd deploy && PYTHONPATH=$(CURDIR) $(abspath $(BIN))/pyinstaller --noconfirm --log-level WARN \
		--distpath $(CURDIR)/dist --workpath $(CURDIR)/build/pyinstaller station.spec
	dist/station/station --help > /dev/null
	rm -rf build/package-smoke && mkdir -p build/package-smoke && cp config.toml build/package-smoke/
	cd build/package-smoke && $(CURDIR)/dist/station/station --config config.toml demo --items 50 --json | tail -n 1 \
		| $(abspath $(BIN))/python -c "import json,sys; s=json.loads(sys.stdin.read()); \
		assert s['world_mismatches'] == 0 and s['items'] == 50, s; print('bundle demo ok:', s['items'], 'items')"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache build dist *.egg-info
