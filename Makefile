# Chatterly: `make dev` serves the chat on http://localhost:8787, `make test` runs every test.
# Both install what is missing first (wasm target, worker-build, wasm-bindgen CLI, npm packages).

SHELL := /bin/bash
.DEFAULT_GOAL := help
PORT ?= 8787

# worker-build would download wasm-bindgen and wasm-opt from outside the package registries:
# point it at a wasm-bindgen CLI built from crates.io and at binaryen's wasm-opt from npm.
CARGO_BIN := $(HOME)/.cargo/bin
export PATH := $(CURDIR)/node_modules/.bin:$(CARGO_BIN):$(PATH)
export WASM_BINDGEN_BIN := $(CARGO_BIN)/wasm-bindgen
export WASM_OPT_BIN := $(CURDIR)/node_modules/.bin/wasm-opt
export WRANGLER_SEND_METRICS := false
export CLOUDFLARE_CF_FETCH_ENABLED := false

# The CLI must match the wasm-bindgen crate in Cargo.lock exactly; read it from there, never twice.
wasm_bindgen_version = $(shell awk '/^name = "wasm-bindgen"$$/ {getline; gsub(/"/, "", $$3); print $$3}' Cargo.lock)

.PHONY: help setup setup-browser build dev test fmt-check lint clippy unit integration examples deploy-check e2e bench clean

help:
	@echo "make dev    - install what is missing, build, serve on http://localhost:$(PORT) (state in .wrangler/state)"
	@echo "make test   - every test: fmt, clippy, unit, integration, deploy dry-run, browser e2e"
	@echo "make bench  - the side-by-side benchmark (see bench/README.md)"

setup:
	@rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@command -v worker-build >/dev/null || cargo install -q worker-build@^0.8
	@test -f Cargo.lock || cargo generate-lockfile
	@v="$(wasm_bindgen_version)"; test -n "$$v" || { echo "no wasm-bindgen in Cargo.lock"; exit 1; }; \
	  if ! "$(WASM_BINDGEN_BIN)" --version 2>/dev/null | grep -q " $$v$$"; then \
	    echo "installing wasm-bindgen-cli $$v"; cargo install -q --force wasm-bindgen-cli --version "=$$v"; fi
	@test -x node_modules/.bin/wrangler -a node_modules/.package-lock.json -nt package-lock.json || npm ci --no-audit --no-fund

# Debian's Chromium for the browser tests (never a downloaded browser build), and an emoji font
# so that reactions show in the README's screenshot.
setup-browser:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
	@test -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf || { apt-get update -qq && apt-get install -y -qq fonts-noto-color-emoji >/dev/null; }

build: setup
	tests/support/build-worker.sh

# wrangler rebuilds on every saved change to src/ (see tests/support/build-worker.sh).
dev: build
	CI=true CHATTERLY_DEV=1 wrangler dev --local --ip 127.0.0.1 --port $(PORT) \
	  --persist-to .wrangler/state --show-interactive-dev-session=false

# Step by step, each with its time, so that a slow or stuck step is named in CI's log.
TEST_STEPS := build setup-browser fmt-check lint clippy unit integration examples deploy-check e2e
test:
	@for step in $(TEST_STEPS); do start=$$(date +%s); \
	  $(MAKE) --no-print-directory $$step || { echo "make test: $$step failed after $$(( $$(date +%s) - start )) s"; exit 1; }; \
	  echo "make test: $$step took $$(( $$(date +%s) - start )) s"; done
	@echo "all test suites passed"

# No test may hang CI: every Node test file gets at most 10 minutes, its process exits once
# its tests are done even if something it opened is still open, and each suite as a whole is cut
# off by `timeout` (which signals its whole process group) after its own bound.
NODE_TEST := node --test --test-force-exit --test-timeout=600000
BOUND := timeout -k 30

fmt-check:
	cargo fmt --check
	cargo fmt --check --manifest-path bench/loadgen/Cargo.toml

# Biome lints and checks the formatting of the JavaScript we ship (public/, tests/, bench/); no writes.
# tsc type-checks an app's usage of the SDK against public/sdk/chatterly.d.ts (tests/types/).
# `npx biome check --write <files>` formats and fixes what it can.
lint:
	@test -x node_modules/.bin/biome || npm ci --no-audit --no-fund
	biome ci .
	tsc -p tests/types/tsconfig.json

clippy:
	cargo clippy --all-targets -- -D warnings
	cargo clippy --lib --target wasm32-unknown-unknown --release -- -D warnings
	cargo clippy --manifest-path bench/loadgen/Cargo.toml --all-targets -- -D warnings

# The core's unit tests, then the browser client's logic in Node: no server, no browser.
unit:
	cargo test --lib
	$(BOUND) 10m $(NODE_TEST) tests/unit/

integration: build
	SKIP_WORKER_BUILD=1 $(BOUND) 40m cargo test --no-fail-fast --test '*'

# examples/ against wrangler dev: the bot, the embed page with its token endpoint, the Python client.
examples: build setup-browser
	SKIP_WORKER_BUILD=1 $(BOUND) 15m $(NODE_TEST) --test-concurrency=1 tests/examples/

# The upload budget (issue 18): the Wasm and its JavaScript together, gzipped, as wrangler reports
# it ("Total Upload: … / gzip: … KiB"). Over the budget, or no figure to read, fails the check.
UPLOAD_BUDGET_KIB := 300
deploy-check: build
	@out=$$(mktemp -d); trap 'rm -rf "$$out"' EXIT; \
	  log=$$(CI=true SKIP_WORKER_BUILD=1 wrangler deploy --dry-run --outdir $$out 2>&1) || { echo "$$log"; exit 1; }; \
	  ls -l $$out/*.wasm $$out/*.js && echo "Wasm alone, gzip -9: $$(gzip -9c $$out/*.wasm | wc -c) bytes"; \
	  echo "$$log" | awk -v budget=$(UPLOAD_BUDGET_KIB) ' \
	    match($$0, /gzip: [0-9.]+ [KM]iB/) { \
	      split(substr($$0, RSTART + 6, RLENGTH - 6), f, " "); kib = f[1] * (f[2] == "MiB" ? 1024 : 1); \
	      print "upload (wrangler): " $$0 "; budget: " budget " KiB"; found = 1 } \
	    END { if (!found) { print "deploy-check: wrangler printed no Total Upload gzip figure"; exit 1 } \
	      if (kib > budget) { printf "deploy-check: the upload is %s KiB gzip, over the %s KiB budget\n", kib, budget; exit 1 } }'

e2e: build setup-browser
	SKIP_WORKER_BUILD=1 $(BOUND) 30m $(NODE_TEST) --test-concurrency=1 tests/e2e/

bench: build
	bench/run

clean:
	cargo clean; rm -rf build
