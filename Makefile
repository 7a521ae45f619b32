# Two commands matter: `make book` (set up + build the HTML book) and `make test`
# (set up + every test). Both create ./.venv on first use with pinned versions.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.tllab-installed
export OMP_NUM_THREADS ?= 2
export PYDEVD_DISABLE_FILE_VALIDATION := 1

NOTEBOOKS := $(wildcard chapters/*.ipynb)
PYTEST_NB := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
             --nbval-cell-timeout=300

.PHONY: setup vendor book test unit notebooks lint lab execute bench clean

$(STAMP): requirements.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip "setuptools>=77"
	$(BIN)/python -m pip install -q -r requirements.txt -c constraints.txt
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

setup: $(STAMP)

## vendor: fetch pinned MathJax / require.js / widget JS with npm into _vendor/ (once), so the
## built book works offline; without npm it only warns and the book uses CDNs
vendor:
	$(PYTHON) tools/vendor_js.py --optional

## book: set up, then build the HTML book into _build/html (stored outputs, zero warnings)
book: setup vendor
	$(BIN)/jupyter-book build . -W -n --keep-going

## test: set up, then lint + unit tests + notebooks (nbval) + book build + browser check
test: setup vendor
	$(BIN)/ruff check tllab tests benchmarks conftest.py
	$(BIN)/python -m pytest $(PYTEST_NB) --doctest-modules tllab tests chapters

unit: setup
	$(BIN)/python -m pytest --doctest-modules tllab tests -m "not book and not browser"

notebooks: setup
	$(BIN)/python -m pytest $(PYTEST_NB) chapters

lint: setup
	$(BIN)/ruff check tllab tests benchmarks conftest.py

## lab: open the chapters in JupyterLab (as root, e.g. in a container, with --allow-root)
lab: setup
	$(BIN)/jupyter lab chapters $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

## execute: re-run every chapter with nbclient and store its outputs (then commit them)
execute: setup
	for nb in $(NOTEBOOKS); do \
	  $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.timeout=600 "$$nb" || exit 1; \
	done

## bench: run the benchmarks (see benchmarks/README.md)
bench: setup
	$(BIN)/python benchmarks/bench_mmd.py

clean:
	rm -rf _build
