# Documented entry points: make venv | demo | test | bench | lint | chaos | clean.
# Each target sets itself up on a fresh machine (Python >= 3.11 and make are all it needs).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PIP_NO_INPUT := 1

.PHONY: venv demo test bench lint chaos clean promtool

venv: $(STAMP)

# Re-installs only when pyproject.toml changes (or the venv is missing).
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info; \
	  sys.exit(0 if v >= (3, 11) else "$(PYTHON) is %d.%d; qualstream needs Python >= 3.11" % v[:2])'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: venv
	$(BIN)/qualstream demo

# One pytest run over the whole suite: tests/conftest.py orders unit tests first and the
# integration tier (embedded Tansu + Redis unless KAFKA_BOOTSTRAP_SERVERS / REDIS_URL) last.
# Exit status 5 (no tests collected) is an error too: an empty run must not look green.
test: venv promtool
	$(BIN)/python -m pytest tests

# The reliability scenarios at full size (kill -9, restarts, rebalances, a frozen broker, Redis
# down, poison records, SLA timers) on their own embedded broker and Redis: chaos-results.json.
CHAOS_SIZE ?= full
chaos: venv
	$(BIN)/python -m tests.chaos --size $(CHAOS_SIZE) --out chaos-results.json

# promtool (for the alert-rule tests) in .venv/bin: from PATH, else Debian's prometheus package.
promtool: $(BIN)/promtool

$(BIN)/promtool: | $(STAMP)
	bash deploy/prometheus/install-promtool.sh $@

# The benchmark of issue 7 (embedded broker + Redis, real worker processes): writes
# bench-results.json and prints the table. BENCH_SCALE=0.05 for a quick run (see README).
bench: venv
	$(BIN)/python -m streams.bench

lint: venv
	$(BIN)/ruff check streams tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis \
	  .qualstream-data
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
