# Lumi: the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.9
export RASA_TELEMETRY_ENABLED := false
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help run class test install model lint unit conversation e2e browser lock bench scale-test soak check-helplines audit clean

help:
	@echo "make run    set up, train if needed, start Rasa, actions and web app (this computer only)"
	@echo "make class  the same, with the web app on the local network for pupils' tablets"
	@echo "make audit  the pinned packages against the PyPA advisories (offline)"
	@echo "make test   set up, train if needed, run every test tier"
	@echo "make bench  benchmark against a stock Rasa assistant"
	@echo "make scale-test  2 Rasa replicas behind nginx, Redis stores, failover (about 7 min)"
	@echo "make soak   10-minute soak, 30 children, memory and errors"

$(PY):
	PYENV_VERSION=3.10.13 python3.10 -m venv $(VENV)

# Installs exactly the locked versions (uv is much faster than pip here).
$(VENV)/.installed: requirements.lock | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(VENV)/bin/uv pip sync --quiet requirements.lock --python $(PY)
	$(PY) -m pip check
	touch $@

install: $(VENV)/.installed

# Generated domain responses, the message checker and the Rasa model, when their inputs changed.
model: install
	$(PY) -m bot.build

run: model
	$(PY) -m bot.launcher

# The web app on this computer's network interface (pupils' tablets); Rasa and
# the action server stay on loopback. Prints the pupils' address and a setup code.
class: model
	$(PY) -m bot.launcher --class

# Offline: requirements.lock against data/advisories/ (docs/robustness.md).
audit: install
	$(PY) -m bot.audit

test: model
	bash scripts/test.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

check-helplines: install
	$(PY) -m bot.helplines_check

# Re-resolve requirements.in into requirements.lock (Rasa pinned; numpy<1.25).
lock: | $(PY)
	$(PY) -m pip install --quiet uv==$(UV_VERSION)
	$(VENV)/bin/uv pip compile requirements.in --python $(PY) --python-version 3.10 -o requirements.lock

bench: model
	$(PY) -m bench.run

# Rasa's horizontal path on this machine: replicas, nginx, Redis lock/tracker stores, failover.
scale-test: model
	$(PY) -m scale.run

soak: model
	$(PY) scripts/soak.py

clean:
	rm -rf models var .pytest_cache .mypy_cache .ruff_cache
