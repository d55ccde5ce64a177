# apilo: `make run` starts everything for a local try-out, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
TEST_SETTINGS := DJANGO_SETTINGS_MODULE=apilo.settings_test

.PHONY: run test lint typecheck format migrations-check messages bench install clean citus-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

run: install
	bin/run-dev

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# mypy with django-stubs over the apps ([tool.mypy] in pyproject.toml); cache in .mypy_cache/.
typecheck: install
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations-check: install
	$(TEST_SETTINGS) $(BIN)/python manage.py makemigrations --check --dry-run

test: lint typecheck migrations-check
	$(TEST_SETTINGS) $(BIN)/python manage.py check --fail-level WARNING
	$(BIN)/pytest $(PYTEST_ARGS)

# The tenant isolation tests with every SQL statement checked: a query on a table distributed by
# tenant that does not filter by tenant_id fails its test (docs/operations/scale.md, Citus).
# Not part of `make test`: the statements the move to Citus still has to change are listed there.
citus-check: install
	$(BIN)/pytest -p no:cacheprovider --tenant-query-log --tenant-query-report=var/tenant-queries.json $(PYTEST_ARGS)

# After changing UI text: extract strings, fill Polish from locale_fragments/, compile.
messages: install
	bin/merge-translations

# The quick versions of every benchmark (bench/README.md has the full runs and their figures).
bench: install
	mkdir -p bench/results
	$(BIN)/python bench/sandbox_throughput.py | tee bench/results/sandbox_throughput.json
	$(BIN)/python bench/idle_poll.py | tee bench/results/idle_poll.json
	$(BIN)/python bench/backfill.py --orders 5000 --naive-orders 1000 | tee bench/results/backfill.json
	$(BIN)/python bench/pull_lag.py --seconds 60 --warmup 20 | tee bench/results/pull_lag.json
	$(BIN)/python bench/push_cost.py --orders 200 | tee bench/results/push_cost.json
	$(BIN)/python bench/push_lag.py --seconds 20 | tee bench/results/push_lag.json
	$(BIN)/python bench/order_list.py --orders 100000 --other-tenants 10 | tee bench/results/order_list.json
	$(BIN)/python bench/mail_outbox.py --mails 2000 | tee bench/results/mail_outbox.json
	$(BIN)/python bench/template_mail.py --orders 100 --changes 500 | tee bench/results/template_mail.json
	$(BIN)/python bench/labels.py --orders 20 | tee bench/results/labels.json
	$(BIN)/python bench/chaos.py --orders 1000 --accounts 50 --seconds 60 | tee bench/results/chaos.json

clean:
	rm -rf $(VENV) var staticfiles
