# The two quick-start commands (README): `make simulate` and `make test`.
# Each installs what it needs: a virtual environment with the package, and, when run as root on
# Debian, the system tools the oracle and RTL tests drive. Nothing is installed twice.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
WB     := $(VENV)/bin/workbench
# System tools (RTL simulators, aarch64 cross gcc, clang/llvm 14 and 19, QEMU 10 from bookworm-backports):
# .ci/install-debian-tools installs what is missing, as root on Debian, and says what will skip otherwise.
INSTALL_TOOLS := .ci/install-debian-tools

.PHONY: simulate test sysdeps venv benchmarks docs clean

simulate: venv
	$(WB) simulate --isa hvx

# Extra pytest arguments; empty runs the whole suite. Skip the slow tests (more than ~5 s each):
#   make test PYTEST_ARGS='-m "not slow"'
PYTEST_ARGS ?=

test: sysdeps venv
	TORCHDYNAMO_DISABLE=1 HF_HUB_OFFLINE=1 PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m pytest -q $(PYTEST_ARGS) tests

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# CPU torch first, pinned, so nothing later can pull a CUDA build (pip finds the local wheel).
	$(PIP) install -q "torch==2.13.0"
	$(PIP) install -q -e ".[test,oracle]"
	touch $@

sysdeps:
	@$(INSTALL_TOOLS)

# Every benchmark script, then the host probes of every architecture (each skips a host it does not measure).
benchmarks: venv
	for b in benchmarks/*.py benchmarks/probes/*/*.py; do $(PY) $$b || exit 1; done

# Executes every notebook of docs/notebooks/ and writes the rendered copies (with outputs) to docs/notebooks/rendered/.
docs: venv
	$(PY) docs/notebooks/render.py

clean:
	rm -rf $(VENV) build *.egg-info sims/build
