# Two commands set everything up: `make demo` and `make test`. Both are idempotent.
# `make lint` runs the gates (ruff, mypy); `make lock` regenerates the pinned, hashed lock.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
STAMP  := $(VENV)/.installed
DEMO   := demo
# The lock is for the CI's Python (3.11, Linux x86_64).
LOCK_PYTHON ?= 3.11
# Where `make lock` finds the CPU build of torch (only its metadata is used: torch itself is not hashed).
TORCH_WHEELS ?= $(firstword $(wildcard /opt/wheels) https://download.pytorch.org/whl/cpu/torch/)

.PHONY: install test demo clean browser gdal lint lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-installs only when the pinned requirements or the project metadata change.
# torch first, by version only (CPU here; a CUDA build installed beforehand is kept), then every other
# distribution from the hashed lock (--require-hashes --no-deps: exactly what is listed), then sam2
# (hashed, without its dependencies: a normal resolve drags in torchvision), then multiview itself.
$(STAMP): $(BIN)/python requirements.lock requirements/torch.txt requirements/sam2.txt pyproject.toml
	$(PIP) install -q --no-deps -r requirements/torch.txt
	$(PIP) install -q --require-hashes --no-deps -r requirements.lock
	SAM2_BUILD_CUDA=0 $(PIP) install -q --require-hashes --no-deps --no-build-isolation -r requirements/sam2.txt
	$(PIP) install -q --no-deps --no-build-isolation -e .
	touch $@

install: $(STAMP)

# The browser tests drive Debian's chromium (Playwright cannot download a browser here).
browser:
	@command -v chromium >/dev/null || { \
		echo "installing Debian's chromium for the browser tests (needs root)"; \
		apt-get update -qq && apt-get install -y -qq chromium; }

# The damage-map tests read every file back with GDAL's own tools, as GIS users do.
gdal:
	@command -v ogrinfo >/dev/null && command -v gdalinfo >/dev/null || { \
		echo "installing Debian's gdal-bin for the damage-map tests (needs root)"; \
		apt-get update -qq && apt-get install -y -qq gdal-bin; }

test: install browser gdal
	$(BIN)/python -m pytest -q

# The gates: ruff (lint + format check) over the code, mypy over the package (pyproject.toml).
LINT_PATHS := multiview tests benchmarks devtools sequences/make_sample.py
lint: install
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy

# Regenerate the lock from pyproject.toml (dependencies + the test and dev extras) with uv:
# every distribution `make install` puts in .venv except torch, pinned with hashes.
lock: install
	$(BIN)/uv pip compile pyproject.toml requirements/venv.in --extra test --extra dev \
		--python-version $(LOCK_PYTHON) --override requirements/torch-resolution.txt --find-links $(TORCH_WHEELS) \
		--no-emit-package torch --generate-hashes --custom-compile-command "make lock" -q -o requirements.lock
	$(BIN)/uv pip compile requirements/sam2.in --no-deps --python-version $(LOCK_PYTHON) --generate-hashes \
		--custom-compile-command "make lock" -q -o requirements/sam2.txt

# The main job on the bundled sample, with the tracker that needs no model weights:
# register the views, prompt two objects on one view (a drawn mask, and a box + click),
# carry them to every view, export the masks and draw an overview picture; then set the wall's
# scale and export the damage map (orthophoto, outlines SVG/GeoPackage/DXF, summary CSV + picture).
SAMPLE := sequences/fresco
demo: install
	$(BIN)/multiview init $(SAMPLE)/photos $(DEMO)/project --overwrite
	$(BIN)/multiview align $(DEMO)/project
	$(BIN)/multiview prompt $(DEMO)/project --view IMG_0104 --obj 1 --name figure \
		--mask $(SAMPLE)/ground_truth/masks/1/IMG_0104.png
	$(BIN)/multiview prompt $(DEMO)/project --view IMG_0104 --obj 3 --name lacuna --category loss \
		--box 395,470,516,560 --point 453,517
	$(BIN)/multiview track $(DEMO)/project --tracker homography
	$(BIN)/multiview status $(DEMO)/project
	$(BIN)/multiview export $(DEMO)/project $(DEMO)/masks --format png --format labels --format h5 --overwrite
	$(BIN)/multiview show $(DEMO)/project $(DEMO)/overview.png --overwrite
	# the damage map: the panel is 240 cm wide, measured across the reference photo
	$(BIN)/multiview scale $(DEMO)/project 28,399,568,417,240cm
	$(BIN)/multiview export $(DEMO)/project $(DEMO)/damage-map --format ortho --format svg --format summary \
		--format gpkg --format dxf --overwrite
	@echo "masks in $(DEMO)/masks, overview picture $(DEMO)/overview.png, damage map in $(DEMO)/damage-map"

clean:
	rm -rf $(DEMO) .pytest_cache
