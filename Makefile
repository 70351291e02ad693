# The two quick-start commands (README): `make simulate` and `make test`.
# Each installs what it needs: a virtual environment with the package, and, when run as root on
# Debian, the system tools the oracle and RTL tests drive. Nothing is installed twice.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
WB     := $(VENV)/bin/workbench
DEBIAN_PACKAGES := iverilog qemu-user gcc-aarch64-linux-gnu clang lld llvm yosys nextpnr-ice40
SYSTEM_TOOLS    := iverilog qemu-aarch64 aarch64-linux-gnu-gcc clang ld.lld llvm-mca yosys nextpnr-ice40

.PHONY: simulate test sysdeps venv benchmarks clean

simulate: venv
	$(WB) simulate --isa avx2 --layer 0

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
	@missing=""; for t in $(SYSTEM_TOOLS); do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian packages (missing:$$missing)"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEBIAN_PACKAGES) >/dev/null; \
	else echo "not root: tests needing$$missing will skip"; fi

# Every benchmark script, then the host probes of every architecture (each skips a host it does not measure).
benchmarks: venv
	for b in benchmarks/*.py benchmarks/probes/*/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info sims/build
