# The two commands a fresh machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test install lint bench sample-data clean dashboard browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,spark]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/aqa summary sample_data/support_project.csv
	$(VENV)/bin/aqa check --config sample_data/aqa.toml --junit build/junit.xml --json build/checks.json
	$(VENV)/bin/aqa report --config sample_data/aqa.toml --output build/report.html
	@echo
	@echo "Report: build/report.html (opens offline). JUnit: build/junit.xml."
	@echo "Dashboard: $(VENV)/bin/aqa dashboard sample_data/support_project.csv --config sample_data/aqa.toml"

# Debian's chromium for the real-browser dashboard test (never a browser download). Where it
# cannot be installed (not root, no apt), the browser tests skip and say why.
browser:
	@command -v chromium >/dev/null 2>&1 || [ ! -x /usr/bin/apt-get ] || [ "$$(id -u)" != 0 ] || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	  echo "chromium could not be installed: the browser tests will be skipped"

test: $(STAMP) browser
	$(PY) -m pytest -n 2 -q

lint: $(STAMP)
	$(VENV)/bin/ruff check qa metrics dashboards tests bench sample_data

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	$(PY) -m pip install --quiet --no-deps 'crowd-kit>=1.2'
	$(PY) bench/run.py

sample-data: $(STAMP)
	$(PY) sample_data/generate.py

dashboard: $(STAMP)
	$(VENV)/bin/aqa dashboard sample_data/support_project.csv --config sample_data/aqa.toml

clean:
	rm -rf $(VENV) build .pytest_cache
