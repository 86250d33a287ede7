# Two commands for a new user: `make demo` and `make test`. Everything else is a step they call.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test unit integration bench schemas kafka-up kafka-down clean system-deps

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed (set PYTHON=python3.11)")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --progress-bar off -e ".[test]"
	@touch $(STAMP)

demo: install
	$(VENV)/bin/matchmaker demo

# Unit tests need nothing running; integration tests start the local broker themselves (port 19092).
test: install system-deps
	$(PY) -m pytest

# System packages some integration tests drive: Debian's chromium + chromedriver (the monitor page in a
# real headless browser) and kcat (publishing as a non-Python platform would). Installed once with
# apt-get when missing (CI runs as root on Debian; elsewhere through sudo).
SYSTEM_TOOLS := chromium chromedriver kcat
system-deps:
	@missing=""; for tool in $(SYSTEM_TOOLS); do command -v $$tool >/dev/null 2>&1 || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing (apt-get) for the integration tests ..."; \
	  SUDO=$$(test "$$(id -u)" -eq 0 || echo sudo); \
	  $$SUDO apt-get update -qq >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver kcat >/dev/null; \
	fi

unit: install
	$(PY) -m pytest tests/unit

integration: install
	$(PY) -m pytest tests/integration

bench: install
	$(PY) -m bench.run

schemas: install
	$(PY) -m schemas.export
	$(PY) -m services.ingest.app --export-openapi

kafka-up: install
	$(VENV)/bin/matchmaker kafka up

kafka-down: install
	$(VENV)/bin/matchmaker kafka down

clean:
	-$(VENV)/bin/matchmaker kafka down
	rm -rf $(VENV) .matchmaker .pytest_cache artifacts
