# keras-gen: two commands from a fresh clone.
#   make demo   train the article's GAN, write outputs/ (about 2.5-3 minutes on 2 CPU cores)
#   make test   lint, unit tests and every notebook in fast mode, on 2 workers
# Both create or reuse .venv and make sure Fashion-MNIST is on disk.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP := $(BIN)/python -m pip --disable-pip-version-check

.DEFAULT_GOAL := help
.PHONY: help demo test unit nbtest lint notebooks data bench pretrained clean classifier

help:
	@echo "make demo       train the article's GAN on Fashion-MNIST, write outputs/"
	@echo "make test       ruff + unit tests + every notebook (fast mode, offline)"
	@echo "make notebooks  re-execute every notebook in full mode, storing outputs"
	@echo "make bench      run the benchmarks, about 25 minutes (see benchmarks/RESULTS.md)"
	@echo "make pretrained rebuild the shipped models in data/pretrained/ (GPT, SMILES GPT, designer, help desk, text-to-image)"
	@echo "make data       find or install Fashion-MNIST and verify its checksums"
	@echo "make clean      remove .venv, outputs/ and caches"

# The virtual environment is rebuilt only when pyproject.toml changes, so a
# second `make test` installs nothing.
$(STAMP): pyproject.toml
	@if ! $(PYTHON) -m venv $(VENV) 2>/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing python3-venv (Debian/Ubuntu ship venv separately)"; \
	    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null; \
	    rm -rf $(VENV); $(PYTHON) -m venv $(VENV); \
	  else \
	    echo "error: '$(PYTHON) -m venv' failed. On Debian/Ubuntu run:"; \
	    echo "  sudo apt-get install python3-venv"; exit 1; \
	  fi; \
	fi
	$(PIP) install --quiet --upgrade "pip>=23"
	$(PIP) install --quiet -e ".[dev]"
	@touch $(STAMP)

# Fashion-MNIST: Debian's package when we may use apt, else a Keras download.
data: $(STAMP)
	@if ! $(BIN)/keras-gen data >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's dataset-fashion-mnist (30 MB, once)"; \
	    apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist >/dev/null; \
	  else \
	    $(BIN)/keras-gen data --download; \
	  fi; \
	fi
	@$(BIN)/keras-gen data

demo: data
	$(BIN)/keras-gen demo

lint: $(STAMP)
	$(BIN)/ruff check keras_gen tests benchmarks tools solutions notebooks

# Tests never touch the network: KERAS_GEN_OFFLINE=1 turns every download off.
# --doctest-modules runs every docstring Example, so none of them can rot.
unit: data
	KERAS_GEN_FAST=1 KERAS_GEN_OFFLINE=1 $(BIN)/python -m pytest --doctest-modules keras_gen tests

nbtest: data
	KERAS_GEN_FAST=1 KERAS_GEN_OFFLINE=1 $(BIN)/python -m pytest \
	  --nbval-lax --nbval-current-env notebooks

# Two pytest workers (pytest-xdist), one per core: while one runs TensorFlow
# the other overlaps what runs on one thread (kernel start-up, imports,
# plotting). --dist loadfile keeps each notebook, with its cells in order as
# nbval needs, and each test module on one worker. TEST_WORKERS=0 runs
# everything in one process, as before.
TEST_WORKERS ?= 2

# The quality classifier (keras_gen.classifier) is trained once per machine and
# cached; training it here, before the workers start, stops two of them from
# training it at the same time on a fresh machine.
CLASSIFIER := $(or $(KERAS_GEN_CACHE),$(HOME)/.cache/keras_gen)/classifiers/fashion_mnist_classifier/model.keras
classifier: data
	@test -f "$(CLASSIFIER)" || KERAS_GEN_OFFLINE=1 $(BIN)/python -c \
	  "from keras_gen.classifier import load_classifier; load_classifier('fashion_mnist')"

test: data lint classifier
	KERAS_GEN_FAST=1 KERAS_GEN_OFFLINE=1 $(BIN)/python -m pytest \
	  -n $(TEST_WORKERS) --dist loadfile --doctest-modules \
	  --nbval-lax --nbval-current-env keras_gen tests notebooks

# Stored notebook outputs come from this target only: a real full-mode run.
notebooks: data
	env -u KERAS_GEN_FAST $(BIN)/python tools/run_notebooks.py notebooks/*.ipynb

# TORCH_PYTHON: a Python with torch installed (keras-gen does not depend on
# it); gpt_pretrain.py then times the same GPT in plain PyTorch in the same run.
bench: $(STAMP)
	$(BIN)/python benchmarks/gan_throughput.py
	$(BIN)/python benchmarks/gpt_pretrain.py $(if $(TORCH_PYTHON),--torch-python $(TORCH_PYTHON))
	$(if $(TORCH_PYTHON),$(BIN)/python benchmarks/gpt_time_to_quality.py --torch-python $(TORCH_PYTHON),@echo "gpt_time_to_quality.py: skipped (it needs TORCH_PYTHON=/path/to/python-with-torch)")
	$(BIN)/python benchmarks/profile_gpt_step.py
	$(BIN)/python benchmarks/image_quality.py
	$(BIN)/python benchmarks/generation.py

# The models that ship in data/pretrained/: the GPT (pydoc-char-gpt, about
# 30 minutes), the SMILES GPT (moses-smiles-gpt), the fashion designer
# (a conditional VAE), the help desk (helpdesk-chat, the GPT fine-tuned on
# chat turns; it needs pydoc-char-gpt) and the text-to-image model (latent
# diffusion, 45 minutes on a shared 2-core machine). Same seeds and
# steps, same weights; each card.json records its command and its measured
# numbers.
pretrained: $(STAMP)
	$(BIN)/python tools/train_pretrained.py
	$(BIN)/python tools/train_moses_gpt.py --steps 8000
	$(BIN)/python tools/train_designer.py --kind cvae --steps 12000
	$(BIN)/python tools/train_helpdesk_chat.py --steps 300
	$(BIN)/python tools/train_text_to_image.py --ae-steps 3000 --steps 6000 --encoder gpt

clean:
	rm -rf $(VENV) outputs .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
