# The two commands a newcomer needs: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV ?= .venv
PORT ?= 8000
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint format migrations-check messages ci clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

# Links in the demo's messages (pickup QR codes, password links) point at the port it serves.
run: export SITE_URL ?= http://127.0.0.1:$(PORT)
run: install
	@# Start-up noise goes to var/log/; the banner (URL and logins) is printed last, once the
	@# server answers. `supervise` runs the worker, beat and the background commands (the
	@# simulated cabinets and the demo fleet) and restarts any that dies.
	@mkdir -p var/log
	@echo "Preparing the database and the demo data (log: var/log/setup.log)..."
	@$(BIN)/python manage.py migrate --noinput > var/log/setup.log 2>&1 || { tail -20 var/log/setup.log; exit 1; }
	@$(BIN)/python manage.py seed_demo >> var/log/setup.log 2>&1 || { tail -20 var/log/setup.log; exit 1; }
	@echo "Starting the server and the background processes (logs: var/log/server.log, var/log/supervise.log)..."
	@bash -c 'trap "kill 0" EXIT INT TERM; \
	  $(BIN)/python manage.py supervise >> var/log/supervise.log 2>&1 & \
	  $(BIN)/python manage.py runserver 127.0.0.1:$(PORT) --noreload >> var/log/server.log 2>&1 & \
	  $(BIN)/python manage.py demo_banner --port $(PORT) --wait 120; \
	  wait'

test: install
	$(BIN)/python -m pytest -q -n auto --dist loadfile $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations-check: install
	$(BIN)/python manage.py makemigrations --check --dry-run

messages: install
	$(BIN)/python manage.py makemessages -l zh_Hans --no-obsolete --ignore=.venv --ignore=var --ignore=tests --ignore=bench --ignore=scripts
	$(BIN)/python manage.py compilemessages --ignore=.venv

ci:
	bash .ci/run

clean:
	rm -rf $(VENV) var
