# keras-gen: two commands from a fresh clone.
#   make demo   train the article's GAN, write outputs/ (about 2.5-3 minutes on 2 CPU cores)
#   make test   lint, unit tests and every notebook in fast mode, on 2 workers
# Both create or reuse .venv and make sure Fashion-MNIST is on disk.
# Without make: python tools/course.py demo | test | setup | --help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP := $(BIN)/python -m pip --disable-pip-version-check

.DEFAULT_GOAL := help
.PHONY: help demo test unit nbtest lint notebooks data bench pretrained clean classifier doctor site site-check

help:
	@echo "make demo       train the article's GAN on Fashion-MNIST, write outputs/"
	@echo "make test       ruff + unit tests + every notebook (fast mode, offline)"
	@echo "make notebooks  re-execute every notebook in full mode, storing outputs"
	@echo "make bench      run the benchmarks, about 25 minutes (see benchmarks/RESULTS.md)"
	@echo "make pretrained rebuild the shipped models in data/pretrained/ (GPT, judges, SMILES GPT, designer, help desk, analyst, text-to-image)"
	@echo "make data       find or install Fashion-MNIST and verify its checksums"
	@echo "make doctor     check that this machine can run the course"
	@echo "make site       build the course website from the stored notebooks into site/"
	@echo "make site-check build it, then check every page in Chromium and drive JupyterLab"
	@echo "make clean      remove .venv, outputs/ and caches"

# Every target is one call of tools/course.py, the entry point the README
# gives for machines without make (Windows, a bare macOS): the two paths run
# the same commands. course.py rebuilds .venv only when pyproject.toml
# changes, so a second `make test` installs nothing; it finds Fashion-MNIST
# (Debian's package when it may use apt, else a Keras download), and its
# `test` lints, checks that the two judges ship in data/pretrained/ (else it
# trains them once, before the pytest workers start), then runs
#   KERAS_GEN_FAST=1 KERAS_GEN_OFFLINE=1 .venv/bin/python -m pytest \
#     -n $(TEST_WORKERS) --dist loadfile --doctest-modules \
#     --nbval-lax --nbval-current-env keras_gen tests notebooks
# Tests never touch the network: KERAS_GEN_OFFLINE=1 turns every download off.
# Two pytest workers (pytest-xdist), one per core; --dist loadfile keeps each
# notebook, with its cells in order as nbval needs, and each test module on
# one worker. TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= 2
COURSE := $(PYTHON) tools/course.py

# Make's own record of the set-up: pyproject.toml newer than the stamp.
$(STAMP): pyproject.toml
	$(COURSE) venv

data:
	$(COURSE) data

demo:
	$(COURSE) demo

lint:
	$(COURSE) lint

unit:
	$(COURSE) unit

nbtest:
	$(COURSE) nbtest

classifier:
	$(COURSE) classifier

test:
	$(COURSE) test --workers $(TEST_WORKERS)

doctor:
	$(COURSE) doctor

# Stored notebook outputs come from this target only: a real full-mode run.
notebooks:
	$(COURSE) notebooks

# TORCH_PYTHON: a Python with torch installed (keras-gen does not depend on
# it); gpt_pretrain.py then times the same GPT in plain PyTorch in the same run.
bench:
	$(COURSE) bench $(if $(TORCH_PYTHON),--torch-python $(TORCH_PYTHON))

# The models that ship in data/pretrained/: the GPT (pydoc-char-gpt, about
# 30 minutes), the SMILES GPT (moses-smiles-gpt), the fashion designer
# (a conditional VAE), the help desk (helpdesk-chat, the GPT fine-tuned on
# chat turns; it needs pydoc-char-gpt), the help desk's retriever
# (helpdesk-retriever, the GPT body fine-tuned as a sentence encoder), the
# sales analyst (sales-analyst, the GPT fine-tuned to write queries) and the
# text-to-image model (latent diffusion, 45 minutes on a shared 2-core
# machine). Same seeds and
# steps, same weights; each card.json records its command and its measured
# numbers (tools/course.py lists the commands).
pretrained:
	$(COURSE) pretrained

# The course website: the stored notebooks (never re-executed) and pages cut
# from README.md, built by MkDocs into site/ with no network (the `site` extra;
# tools/build_site.py, docs/mkdocs.yml). Open it through any web server, e.g.
# `.venv/bin/python -m http.server -d site`.
site:
	$(COURSE) site

# Every page of the site in headless Chromium (Debian's chromium, installed as
# root on first use as `make data` installs Fashion-MNIST, driven by Playwright:
# images, links, no error output, notebook 09's audio, a phone's width;
# screenshots in site-check/ or $$KERAS_GEN_ARTEFACTS), then JupyterLab driven
# through notebooks 06 and 00 (the `browser` extra). A second target, not part
# of `make test`: .ci/run runs both.
site-check:
	$(COURSE) site-check

clean:
	$(COURSE) clean
