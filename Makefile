# Two commands for a newcomer: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := .onceonly-demo
AS_OF  ?= 2026-10-31
NEXT_AS_OF ?= 2026-11-30

export DAGSTER_HOME := $(CURDIR)
export ONCEONLY_HOME ?= $(CURDIR)/$(DEMO)/home
export ONCEONLY_INBOX ?= $(CURDIR)/$(DEMO)/inbox

.PHONY: install demo demo-followup test test-fast bench loadtest ui clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/onceonly demo --out $(DEMO)/inbox --truth $(DEMO)/truth --as-of $(AS_OF)
	$(BIN)/onceonly run --inbox $(DEMO)/inbox --as-of $(AS_OF)
	$(BIN)/onceonly demo --check --out $(DEMO)/inbox --truth $(DEMO)/truth --as-of $(AS_OF)
	@echo ""
	@echo "Reports:   $(ONCEONLY_HOME)/reports/$(AS_OF)/"
	@echo "Dagster:   DAGSTER_HOME=$(CURDIR) $(BIN)/dagster dev   (then open http://127.0.0.1:3000)"

# the demo's second month: grid workers' visits on the first month's tasks, then the gap per grid before and after
demo-followup: $(STAMP)
	$(BIN)/onceonly demo --followup --out $(DEMO)/inbox --truth $(DEMO)/truth
	$(BIN)/onceonly run --inbox $(DEMO)/inbox --as-of $(NEXT_AS_OF)
	$(BIN)/onceonly demo --check --out $(DEMO)/inbox --truth $(DEMO)/truth --as-of $(NEXT_AS_OF)

# everything (the README's test command; .ci/run runs it)
test: $(STAMP)
	$(BIN)/pytest

# the edit-test loop: every test but those marked slow (whole-graph runs, benchmarks, city-sized inputs), on two
# processes; a test file stays on one, because the portal's tests share one server and its throttle in file order
test-fast: $(STAMP)
	$(BIN)/pytest -m "not slow" -q -n 2 --dist loadfile

bench: $(STAMP)
	$(BIN)/python -m pipelines.bench

# the portal under 100 clients with a rebuild in the middle (docs/benchmarks.md); LOADTEST_ARGS="--clients 20" etc.
loadtest: $(STAMP)
	$(BIN)/python -m pipelines.loadtest $(LOADTEST_ARGS)

ui: $(STAMP)
	$(BIN)/dagster dev

clean:
	rm -rf $(DEMO) .loadtest .dagster .pytest_cache
