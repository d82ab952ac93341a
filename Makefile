# newsmap: `make run` serves the map, `make test` runs lint and the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export HOST PORT

.PHONY: run serve test lint data bench soak clean eval

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The pinned versions (requirements.txt, the lock of pyproject.toml's dependencies), then newsmap itself,
# editable and without dependencies, so that $(BIN)/newsmap is the command the README names and runs
# this checkout's code. pyproject.toml is a prerequisite: a new entry point or dependency reinstalls.
$(VENV)/.installed: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(VENV)/.installed $@

# The exports are committed; the database (gitignored) is made by the first build. `make data`,
# `make run` and `make serve` build every time: `newsmap build` skips seeds whose text, metadata
# and geoparser are unchanged (by hash), so an unchanged library costs about half a second and a
# changed seed is in the library before the server starts.
data/newsmap.db: | $(VENV)/.installed
	$(BIN)/newsmap build

data: $(VENV)/.installed
	$(BIN)/newsmap build

run: data
	$(BIN)/newsmap run

serve: data
	$(BIN)/newsmap serve

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/pytest

# Benchmarks (bench/README.md): each script writes bench/out/<name>.json and exits 1 when it misses a
# target; `-` lets the rest run, then report.py renders bench/results.md and fails if anything missed.
CORPUS ?= ../shared/corpus
BENCH_EXPECT = page server soak hostile-build hostile-dense hostile-clients hostile-bodies library collection export russian $(if $(wildcard bench/pipeline.py),pipeline) \
	$(if $(and $(wildcard bench/corpus.py),$(wildcard $(CORPUS))),corpus) \
	$(if $(and $(wildcard bench/eval.py),$(wildcard $(CORPUS))),eval batch)

bench: $(VENV)/.installed-dev data/newsmap.db
	rm -f bench/out/*.json
	-$(BIN)/python bench/page.py
	-$(BIN)/python bench/server.py
	-$(BIN)/python bench/soak.py
	-$(BIN)/python bench/hostile.py
	-$(BIN)/python bench/library.py
	-$(BIN)/python bench/collection.py
	-$(BIN)/python bench/export.py
	-$(BIN)/python bench/russian.py
	-if [ -f bench/pipeline.py ]; then $(BIN)/python bench/pipeline.py; fi
	-if [ -f bench/corpus.py ] && [ -e $(CORPUS) ]; then $(BIN)/python bench/corpus.py $(CORPUS); fi
	-if [ -f bench/eval.py ] && [ -e $(CORPUS) ]; then $(BIN)/python bench/eval.py $(CORPUS); fi
	-if [ -f bench/batch.py ] && [ -e $(CORPUS) ]; then $(BIN)/python bench/batch.py $(CORPUS); fi
	$(BIN)/python bench/report.py --expect $(BENCH_EXPECT)

# Accuracy on the corpus dev slices, 5-fold cross-validated (the resolver's weights fitted on the other
# folds by tools/fit_weights.py), scored by the corpus's own score.py; a few minutes (bench/eval.py).
eval: $(VENV)/.installed-dev
	$(BIN)/python bench/eval.py $(CORPUS)

soak: $(VENV)/.installed-dev data/newsmap.db
	$(BIN)/python bench/soak.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts  # the GeoNames index stays in ~/.cache/newsmap
