# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test bench lint clean screenshots translations catalogue

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

## translations: the gettext catalogues (translations/*/LC_MESSAGES/*.po, and the example
## connector's in examples/dsar-loyalty) compiled for use
translations: $(STAMP)
	$(BIN)/pybabel -q compile -d translations
	$(BIN)/pybabel -q compile -d examples/dsar-loyalty/dsar_loyalty/translations

## catalogue: the marked strings extracted and merged into the catalogues, to translate
catalogue: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k translatable -k translate \
		-o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching \
		--ignore-obsolete
	rm translations/messages.pot

## run: everything on this machine, on embedded defaults (see README); e.g. make run PORT=5123
## (HOST=0.0.0.0 to be reached from other machines)
HOST ?= 127.0.0.1
PORT ?= 5000
run: $(STAMP) translations
	$(BIN)/dsar run --host '$(HOST)' --port '$(PORT)'

## test: the whole suite, in as many processes as the machine has cores (TEST_PROCESSES=1
## for one); the browser tests need Debian's chromium (installed when missing). Then the
## example connector package's own tests (the conformance kit among them), with the package
## on PYTHONPATH rather than installed: installed, it would be a sixth connector in every
## test app of the suite, which counts five.
TEST_PROCESSES ?= auto
test: $(STAMP) translations
	scripts/ensure-browser
	$(BIN)/pytest -n $(TEST_PROCESSES)
	PYTHONPATH=examples/dsar-loyalty $(BIN)/pytest examples/dsar-loyalty/tests

## screenshots: the README's pictures, taken by the browser tests and from a real answer's PDF
screenshots: $(STAMP) translations
	scripts/ensure-browser
	DSAR_SCREENSHOTS_DIR=docs/screenshots $(BIN)/pytest -q tests/test_browser_intake.py \
		tests/test_browser_console.py tests/test_browser_languages.py
	DSAR_SCREENSHOTS_DIR=docs/screenshots $(BIN)/pytest -q tests/test_answer_document.py -k typical

## bench: timing targets, kept out of the tests (tests/bench); e.g. make bench BENCH_ARGS=--quick
BENCH_ARGS ?=
bench: $(STAMP) translations
	$(BIN)/python -m tests.bench $(BENCH_ARGS)

## lint: style, types, and the house rules between the parts (pyproject.toml)
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy dsar connectors setup.py
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) instance/*.db instance/outbox instance/reports
