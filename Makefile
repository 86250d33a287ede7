# Two commands for a new user: `make demo` and `make test`. Everything else is a step they call.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test lint unit integration bench bench-strict soak schemas kafka-up kafka-down clean system-deps language-deps test-tools

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed (set PYTHON=python3.11)")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --progress-bar off -e ".[test]"
	@touch $(STAMP)

demo: install language-deps
	$(VENV)/bin/matchmaker demo

# Lint, format and type checks first (fast), then unit tests (no broker) and integration tests, which
# start the local broker themselves (port 19092).
test: install language-deps test-tools lint
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# System packages, each installed once with apt-get when missing (CI runs as root on Debian; elsewhere
# through sudo). The matcher's language resources: voikko-fi + libvoikko1 (Finnish lemmas and compound
# parts) and dict-freedict-fin-eng + dict-freedict-swe-eng (Finnish/Swedish->English glosses, read at
# run time from /usr/share/dictd). The tests' tools: chromium + chromedriver (the monitor page in a real
# headless browser), kcat (publishing as a non-Python platform would), and promtool + prometheus, both
# from Debian's prometheus package (the alert rules checked, unit-tested and evaluated by a real server).
# On a host with systemd that package also enables a prometheus service on :9090; the tests do not use it
# (`systemctl disable --now prometheus` if unwanted).
LANGUAGE_FILES := /usr/share/dictd/freedict-fin-eng.index:dict-freedict-fin-eng \
  /usr/share/dictd/freedict-swe-eng.index:dict-freedict-swe-eng /usr/lib/voikko/5/mor-standard/index.txt:voikko-fi
TEST_TOOLS := chromium:chromium chromedriver:chromium-driver kcat:kcat promtool:prometheus prometheus:prometheus
APT_INSTALL = SUDO=$$(test "$$(id -u)" -eq 0 || echo sudo); $$SUDO apt-get update -qq >/dev/null && \
  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends

language-deps:
	@missing=""; for pair in $(LANGUAGE_FILES); do test -e $${pair%%:*} || missing="$$missing $${pair#*:}"; done; \
	ldconfig -p 2>/dev/null | grep -q libvoikko.so.1 || missing="$$missing libvoikko1"; \
	if [ -n "$$missing" ]; then echo "installing$$missing (apt-get) ..."; $(APT_INSTALL) $$missing >/dev/null; fi

test-tools:
	@missing=""; for pair in $(TEST_TOOLS); do command -v $${pair%%:*} >/dev/null 2>&1 || \
	  case "$$missing " in *" $${pair#*:} "*) ;; *) missing="$$missing $${pair#*:}";; esac; done; \
	if [ -n "$$missing" ]; then echo "installing$$missing (apt-get) ..."; $(APT_INSTALL) $$missing >/dev/null; fi

system-deps: language-deps test-tools

unit: install
	$(PY) -m pytest tests/unit

integration: install
	$(PY) -m pytest tests/integration

# The bench writes artifacts/bench.json; its table then replaces the one in docs/performance.md, so the
# published table is always what the bench printed. `bench-strict` also fails when a target is missed.
bench: install
	$(PY) -m bench.run
	$(PY) -m bench.targets --write docs/performance.md

bench-strict: bench
	$(PY) -m bench.targets --strict

# Not part of `make test`: a steady stream with crashes for MATCHMAKER_SOAK_MINUTES (30) on a local
# three-broker cluster (README, "Soak"); SOAK_ARGS=--strict makes a loss, a stale result or a leak fail it.
SOAK_STAMP := $(VENV)/.soak-stamp

$(SOAK_STAMP): $(STAMP)
	$(PY) -m pip install --quiet --progress-bar off -e ".[test,soak]"
	@touch $(SOAK_STAMP)

soak: $(SOAK_STAMP) language-deps
	$(PY) -m bench.soak $(SOAK_ARGS)

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
