# The two commands in the README:
#   make lab    set everything up (venv, cluster tools, cluster) and open JupyterLab (labs/, exercises/, solutions/)
#   make test   set everything up and run the whole test suite (unit, cluster, notebooks)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: setup venv tools jupyterlab-settings lab test unit down clean-notebooks hub

setup: venv tools jupyterlab-settings

venv: $(BIN)/kjlab

$(BIN)/kjlab: pyproject.toml
	@bash tools/step.sh "setup 1/2: Python packages into $(VENV) (pip; first time only)" \
	  sh -c '$(PYTHON) -m venv $(VENV) && $(BIN)/pip install --quiet --upgrade pip && $(BIN)/pip install --quiet -e ".[lab,test,hub,k8s-hub]"'
	touch $@

# kjlab's JupyterLab settings (no news toast) and terminal extension (terminals set up for `kjlab practice`)
# into the venv, where a plain `jupyter lab` reads them too
jupyterlab-settings: venv
	@$(BIN)/python -c 'from kjlab import paths; print("JupyterLab settings:", paths.install_jupyterlab_settings())'

# Downloads the pinned release binaries when the release host answers, else builds them (KJLAB_TOOLS=download|build).
tools:
	@bash tools/step.sh "setup 2/2: cluster tools into the cache (download or build; first time only)" bash tools/build.sh

lab: setup
	@echo "==> lab: start the lab cluster, then open JupyterLab"
	$(BIN)/kjlab lab

# The kwok and kind suites run as two concurrent pytest processes; see tests/suites.sh.
test: setup
	bash tests/suites.sh

unit: venv jupyterlab-settings
	$(BIN)/python -m pytest -q -m "not cluster" --ignore=tests/compare

down: venv
	$(BIN)/kjlab down

# The classroom hub (README: "Classroom workshops"): sudo make hub CLASS=class.txt [PORT=8000 IP=0.0.0.0]
hub: venv
	$(BIN)/kjlab hub --class-list $(CLASS) --port $(or $(PORT),8000) --ip $(or $(IP),127.0.0.1)
