# Two commands set everything up: `make demo` and `make test`. Both are idempotent.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SAM2_VERSION := 1.1.0
DEMO   := demo

.PHONY: install test demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools

# Re-installs only when the pinned requirements or the project metadata change.
$(STAMP): $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/python -m pip install -q -r requirements.lock
	SAM2_BUILD_CUDA=0 $(BIN)/python -m pip install -q --no-deps --no-build-isolation sam2==$(SAM2_VERSION)
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

install: $(STAMP)

test: install
	$(BIN)/python -m pytest -q

# The main job on the bundled sample, with the tracker that needs no model weights.
demo: install
	$(BIN)/python sequences/make_sample.py $(DEMO)/sample --overwrite
	$(BIN)/multiview init $(DEMO)/sample/photos $(DEMO)/project --overwrite
	$(BIN)/multiview status $(DEMO)/project

clean:
	rm -rf $(DEMO) .pytest_cache
