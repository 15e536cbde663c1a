# Shelfmark: `make run` serves the app with a worker; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# `make run PORT=8010` serves on another port.
PORT ?= 8000

.PHONY: run test bench bench-peer lint migrate demo worker clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

migrate: $(STAMP)
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo

run: demo
	PORT=$(PORT) bin/run-dev

worker: $(STAMP)
	$(VENV)/bin/celery -A config worker -l info --concurrency 2

test: $(STAMP)
	bin/run-tests

bench: $(STAMP)
	$(PY) -m bench.run

# Shelfmark beside Label Studio (installed into bench/data/peer-venv on first use): bench/README.md.
bench-peer: $(STAMP)
	$(PY) -m bench.peer

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf var/broker var/test-media var/test-catalog-features
