# make demo  - set up .venv (pinned torch pair, aezoo, first-party plugins) and denoise digits
# make test  - set up .venv and .venv-olah (a loopback hub server), then run the whole suite
# make lint  - ruff and mypy, as CI runs them
# make docs  - build the documentation site into site/ (mkdocs build --strict; the tests build it too)
# make release - re-pin every plugin's release file: push each weights/NAME to a loopback hub (see docs/weights.md)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PLUGINS := $(sort $(dir $(wildcard plugins/*/pyproject.toml)))
OLAH := .venv-olah/bin/olah-cli

.PHONY: demo test lint install clean release docs bench

demo: $(VENV)/.installed
	$(BIN)/python examples/demo.py

test: $(VENV)/.installed $(OLAH)
	AEZOO_OLAH=$(abspath $(OLAH)) AEZOO_REQUIRE_OLAH=1 $(BIN)/python -m pytest -n 2 -q

# ruff (the rule set in pyproject.toml) over the tree, mypy over the aezoo package ([tool.mypy])
lint: $(VENV)/.installed
	$(BIN)/python -m ruff check .
	$(BIN)/python -m mypy

install: $(VENV)/.installed

# Every speed target beside its raw floor, one thread; writes benchmarks/results.json and docs/benchmarks.md.
bench: $(VENV)/.installed
	OMP_NUM_THREADS=1 $(BIN)/python benchmarks/run.py --docs docs/benchmarks.md

docs: $(VENV)/.installed
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict

release: $(VENV)/.installed
	$(BIN)/python -m tests.release_pins

$(VENV)/.installed: pyproject.toml constraints.txt $(wildcard plugins/*/pyproject.toml)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[data,test,docs]' $(addprefix -e ,$(PLUGINS))
	touch $@

# olah (a self-hosted Hub mirror) lives in its own venv so its pins never touch aezoo's.
$(OLAH):
	$(PYTHON) -m venv .venv-olah
	.venv-olah/bin/python -m pip install -q olah==0.5.4

clean:
	rm -rf $(VENV) .venv-olah demo-output site
