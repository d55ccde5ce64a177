# apilo: `make run` starts everything for a local try-out, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
TEST_SETTINGS := DJANGO_SETTINGS_MODULE=apilo.settings_test

.PHONY: run test lint format migrations-check messages bench install clean

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

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations-check: install
	$(TEST_SETTINGS) $(BIN)/python manage.py makemigrations --check --dry-run

test: lint migrations-check
	$(TEST_SETTINGS) $(BIN)/python manage.py check --fail-level WARNING
	$(BIN)/pytest $(PYTEST_ARGS)

# Re-extract translatable strings after changing UI text, then translate locale/*/LC_MESSAGES/django.po.
messages: install
	DEBUG=1 $(BIN)/python manage.py makemessages --locale pl --locale en --ignore '.venv/*' --ignore 'allegro_sandbox/*' --ignore 'tests/*' --ignore 'bench/*'
	DEBUG=1 $(BIN)/python manage.py compilemessages --ignore '.venv/*'

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) var staticfiles
