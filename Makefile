# Two commands do all the set-up on a fresh machine: `make up` and `make test`.
# Both create the virtual environment in .venv when it is missing or out of date.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: up test unit lint clean synth deploy destroy demo

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

up: $(STAMP)
	$(BIN)/onecloud up

# A seeded demo colony sent to the running stack (make up); DEMO_ARGS="--mice 12 --seed 1" to change it.
demo: $(STAMP)
	$(BIN)/onecloud demo $(DEMO_ARGS)

# Test files are spread over WORKERS processes (pytest-xdist; a file's tests stay together, in order).
# WORKERS=0 runs them all in this process.
WORKERS ?= 2
XDIST := -n $(WORKERS) --dist loadfile

# Every test, the end-to-end runs (marker e2e) included.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

# Fast feedback while working: everything but the end-to-end runs.
unit: $(STAMP)
	$(BIN)/python -m pytest -m "not e2e" $(XDIST) $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis

# Infrastructure (infrastructure/, README "Deploying to AWS"). STAGE is a stage of .chalice/config.json.
STAGE ?= dev
IMAGE_TAG ?= $(shell git describe --always --dirty 2>/dev/null || echo latest)
CDK := npx --yes aws-cdk@2.1148.1
ASSEMBLY := infrastructure/cdk.out/$(STAGE)

# The stage's CloudFormation templates in infrastructure/cdk.out/<stage>/ (no AWS account needed).
synth: $(STAMP)
	$(BIN)/python -m infrastructure.synth --stage $(STAGE) --image-tag $(IMAGE_TAG)

# Deploy the stage to the account of the current AWS credentials: data first, then the Batch image, then
# the rest. CDK asks before widening IAM permissions.
deploy: synth
	$(CDK) bootstrap --app $(ASSEMBLY)
	$(CDK) deploy --app $(ASSEMBLY) onecloud-$(STAGE)-data
	$(BIN)/python -m infrastructure.image --stage $(STAGE) --tag $(IMAGE_TAG)
	$(CDK) deploy --app $(ASSEMBLY) --all --outputs-file $(ASSEMBLY)/outputs.json

# Delete the stage's stacks (asks first). prod keeps its tables, buckets, image repository and logs.
destroy: synth
	$(CDK) destroy --app $(ASSEMBLY) --all
