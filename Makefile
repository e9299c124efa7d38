# Vigie: two commands on a fresh machine with Python 3.11 and make:
#   make demo   - embedded broker + Redis + worker + a replayed bad-buzz scenario, live alerts
#   make test   - unit, agent and integration tests (real Tansu broker and redis-server)
PY ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
NAB ?= ../shared/eval/nab
SENTIMENT ?= ../shared/eval/sentiment/data
SENTIMENT_BRANDS ?= ../shared/eval/sentiment/train

.PHONY: venv demo test test-unit bench eval eval-volume-sensitivity lint clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PY) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $(STAMP)

demo: venv
	$(BIN)/vigie demo

test: venv
	$(BIN)/pytest -q -p no:cacheprovider

test-unit: venv
	$(BIN)/pytest -q -p no:cacheprovider tests/unit

bench: venv
	@mkdir -p out
	$(BIN)/vigie bench --json out/bench.json

eval: venv
	@mkdir -p out
	$(BIN)/python -m streams.dev.eval.volume --nab-root $(NAB) --perturb --json out/eval-volume.json
	$(BIN)/python -m streams.dev.eval.volume_sim --json out/eval-volume-sim.json
	$(BIN)/vigie eval sentiment --data $(SENTIMENT) --sets '*_val' --json out/eval-sentiment.json
	$(BIN)/vigie eval sentiment --data $(SENTIMENT_BRANDS) --sets 'airline_en,sanders_en,apple_dfe_en' \
		--json out/eval-sentiment-brands.json
	for s in bank-bad-buzz crisis-week mobilisation night-waves two-fronts quiet-week; do \
		$(BIN)/vigie eval alerts --scenario $$s --json out/eval-alerts-$$s.json || exit 1; done

# every volume parameter -30 % / +30 % on NAB (about 15 minutes)
eval-volume-sensitivity: venv
	@mkdir -p out
	$(BIN)/python -m streams.eval.volume --nab-root $(NAB) --sensitivity --json out/eval-volume-sensitivity.json

lint: venv
	$(BIN)/ruff check streams tests bench
	$(BIN)/mypy streams

clean:
	rm -rf $(VENV) out var .pytest_cache .mypy_cache .ruff_cache .hypothesis
