#!/usr/bin/env bash
# Every test tier, in order (called by `make test`, after set-up and training).
#   1. lint, format and types   2. unit tests (no model; storage on SQLite and PostgreSQL)
#   3. rasa data validate       4. conversation tests on the trained model
#   5. end-to-end over REST     6. robustness (bad input, faults)
#   7. faults through make run's own launcher (processes killed, database locked/full, Redis)
#   8. browser tests in Chromium
# Services the tests need (PostgreSQL, Redis, Chromium) are installed and started
# here and stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export RASA_TELEMETRY_ENABLED=false
mkdir -p var/test-results
started=$(date +%s)
step() { printf '\n=== %s (%ss)\n' "$*" "$(( $(date +%s) - started ))"; }

step "lint, format, types"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
$PY -m bot.audit --check >/dev/null  # a new advisory of the web app's stack fails here

step "services: PostgreSQL, Redis, Chromium"
if [ -f scripts/services.sh ]; then
  bash scripts/services.sh start
  trap 'bash scripts/services.sh stop >/dev/null 2>&1 || true' EXIT
  set -a; . var/services.env; set +a
  export LUMI_REQUIRE_POSTGRES=1
fi
# Chromium, and a colour emoji font so the screenshots in docs/ show the call and
# read-aloud icons as a phone does (without it they are empty boxes)
if ! command -v chromium >/dev/null 2>&1 || [ ! -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ]; then
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null
  else
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null
  fi
fi

# tests/launcher makes a second network namespace (a pupil's tablet): iproute2
if ! command -v ip >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null
fi

step "unit tests (no model)"
$PY -m pytest tests/unit -q -p no:cacheprovider --junitxml=var/test-results/unit.xml

step "rasa data validate"
$PY -m bot.validate_data

step "conversation tests on the trained model"
$PY -m pytest tests/conversation -q -p no:cacheprovider --junitxml=var/test-results/conversation.xml

step "end-to-end tests over REST"
$PY -m pytest tests/e2e -q -p no:cacheprovider --junitxml=var/test-results/e2e.xml

step "robustness: bad input, limits, exposure, faults"
$PY -m pytest tests/robustness -q -p no:cacheprovider --junitxml=var/test-results/robustness.xml

step "faults through the launcher: processes killed, database locked and full, Redis stopped"
$PY -m pytest tests/launcher -q -p no:cacheprovider --junitxml=var/test-results/launcher.xml

if [ -d tests/browser ]; then
  step "browser tests (Chromium)"
  $PY -m pytest tests/browser -q -p no:cacheprovider --junitxml=var/test-results/browser.xml
fi

step "all tiers passed"
