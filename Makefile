# Two commands for a new user: `make run` (set up, build, open the GUI on the demo) and
# `make test` (set up, then the whole test suite). Both are idempotent and fast the second time.

VENV      := .venv
PY        := $(VENV)/bin/python
STAMP     := $(VENV)/.installed
REF       := target/reference
REF_STAMP := $(REF)/.done
DICOM_REF := $(REF)/dicom/.done
DENSE_REF := $(REF)/.densenet-done

export VIRTUAL_ENV          := $(abspath $(VENV))
export PATH                 := $(VIRTUAL_ENV)/bin:$(PATH)
export LIBTORCH_USE_PYTORCH := 1

.PHONY: run test setup build release clippy reference bench clean-reference

DEMO_MODEL ?= models/phantom_squeezenet.json
DEMO_ARGS  ?= --model $(DEMO_MODEL) $(addprefix --image ,$(sort $(wildcard assets/samples/*.png)))

run: release
	./target/release/heatmap-explorer gui $(DEMO_ARGS)

test: setup $(REF_STAMP) $(DICOM_REF) $(DENSE_REF)
	cargo fmt --check
	cargo clippy --locked --workspace --all-targets -- -D warnings
	cargo test --locked --workspace

setup: $(STAMP)

$(STAMP): requirements.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	@touch $@

build: setup
	cargo build --locked

release: setup
	cargo build --locked --release

reference: $(REF_STAMP) $(DICOM_REF) $(DENSE_REF)

# Reference outputs from the real peers (torchvision, Captum 0.9.0, the paper's PyTorch GAX loop).
REF_SRC := $(addprefix tests/reference/,make_reference.py decode_cases.py flat_images.py flat_reference.py)
$(REF_STAMP): $(STAMP) $(REF_SRC) assets/samples/normal_2.png
	@mkdir -p $(REF)
	PYTHONWARNINGS=ignore $(PY) tests/reference/make_reference.py $(REF)
	@touch $@

# DenseNet121 and torchxrayvision's 1-channel DenseNet121 (torchvision, Captum 0.9.0, the paper's
# GAX loop for one channel), 64×64 inputs; about a minute on two cores.
$(DENSE_REF): $(STAMP) tests/reference/make_densenet.py
	@mkdir -p $(REF)
	PYTHONWARNINGS=ignore $(PY) tests/reference/make_densenet.py $(REF)
	@touch $@

# DICOM files made with pydicom, real ones from pydicom-data, and pydicom 3.0.2's pixel pipeline.
$(DICOM_REF): $(STAMP) tests/reference/make_dicom.py
	@mkdir -p $(REF)/dicom
	PYTHONWARNINGS=ignore $(PY) tests/reference/make_dicom.py $(REF)/dicom
	@touch $@

clean-reference:
	rm -rf $(REF)
