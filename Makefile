# Two commands set everything up: `make demo` and `make test`. Both are idempotent.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SAM2_VERSION := 1.1.0
DEMO   := demo

.PHONY: install test demo clean browser gdal

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
