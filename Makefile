# sigbox — build, test, bench, run. `make test` is the one command CI runs.
SHELL := /bin/bash
CARGO ?= cargo
TRIPLE := x86_64-unknown-linux-gnu
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
RELEASE_BIN := $(TARGET_DIR)/$(TRIPLE)/release/sigbox
STATIC_FLAGS := -C target-feature=+crt-static -C relocation-model=static

.PHONY: build release test lint unit bench up fuzz fuzz-long soak clean-venv tools

## Independent clients the tests and benchmarks compare against, installed once inside the
## clone: sigstore-python (and pyca/cryptography) and python-tuf in .venv.
VENV := .venv
$(VENV)/.stamp:
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check sigstore==4.5.1 tuf==7.0.1
	touch $@

## sigstore-js (npm `sigstore` + `@sigstore/verify`), pinned by tests/js/package-lock.json.
tests/js/node_modules/.stamp: tests/js/package.json tests/js/package-lock.json
	cd tests/js && npm ci --no-audit --no-fund
	touch $@

## cargo-deny (licences, bans, sources), built once into .tools/ inside the clone.
CARGO_DENY := .tools/bin/cargo-deny
$(CARGO_DENY):
	$(CARGO) install --quiet --locked --root .tools cargo-deny@0.20.2

tools: $(VENV)/.stamp tests/js/node_modules/.stamp $(CARGO_DENY)

build: release

## A statically linked x86_64 binary (glibc with crt-static; no musl target here).
release:
	RUSTFLAGS="$(STATIC_FLAGS)" $(CARGO) build --release --target $(TRIPLE)
	@file $(RELEASE_BIN)

lint: $(CARGO_DENY)
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO_DENY) check bans licenses sources

## fmt check + clippy -D warnings + every test (unit + end-to-end), against the release
## binary for the static-linking test.
test: tools lint release
	SIGBOX_RELEASE_BIN=$(abspath $(RELEASE_BIN)) $(CARGO) test

unit:
	$(CARGO) test --lib

bench: tools release
	$(CARGO) bench --bench crypto
	SIGBOX_BIN=$(abspath $(RELEASE_BIN)) $(CARGO) bench --bench fulcio
	$(CARGO) bench --bench verify
	SIGBOX_BIN=$(abspath $(RELEASE_BIN)) $(CARGO) bench --bench keyless
	SIGBOX_BIN=$(abspath $(RELEASE_BIN)) $(CARGO) bench --bench log
	SIGBOX_BIN=$(abspath $(RELEASE_BIN)) $(CARGO) bench --bench gitsign
	SIGBOX_BIN=$(abspath $(RELEASE_BIN)) $(CARGO) bench --bench humbly
	SIGBOX_BIN=$(abspath $(RELEASE_BIN)) $(CARGO) bench --bench images
	SIGBOX_BIN=$(abspath $(RELEASE_BIN)) $(CARGO) bench --bench tsa
	SIGBOX_BIN=$(abspath $(RELEASE_BIN)) $(CARGO) bench --bench postgres
	$(CARGO) bench --bench ops

## The local instance: CA + CT log, transparency log and a test OIDC issuer on
## 127.0.0.1:3000-3002, state in .sigbox-up/ (kept across restarts). Ctrl-C stops it.
UP_DATA ?= $(CURDIR)/.sigbox-up
up: release
	$(RELEASE_BIN) install-links $(CURDIR)/bin >/dev/null
	$(RELEASE_BIN) up --data-dir $(UP_DATA)

## Ten minutes (SOAK_SECONDS) of mixed sign / verify / search load on `sigbox up`, RSS sampled:
## it must stay flat after warm-up (benches/soak.rs). Not part of `make test`.
SOAK_SECONDS ?= 600
soak: release
	SOAK_SECONDS=$(SOAK_SECONDS) SIGBOX_BIN=$(abspath $(RELEASE_BIN)) $(CARGO) bench --bench soak

## Coverage-guided fuzzing with cargo-fuzz (built once into .tools/). Seeds come from
## fuzz/corpus/<target> (committed); what the fuzzer learns goes to fuzz/target/corpus (not
## committed). `make fuzz` is a quick pass (FUZZ_SECONDS per target); `make fuzz-long` runs
## each target FUZZ_LONG_SECONDS (default 20 min) and writes executions and crashes per
## target to fuzz/target/fuzz-long.tsv (fuzz/README.md).
CARGO_FUZZ := .tools/bin/cargo-fuzz
$(CARGO_FUZZ):
	$(CARGO) install --quiet --locked --root .tools cargo-fuzz@0.13.2
FUZZ_SECONDS ?= 60
FUZZ_LONG_SECONDS ?= 1200
FUZZ_TARGETS := bundle trusted_root x509 keys gitsign cosign_key rekor_entry fulcio_request \
	oidc checkpoint oci policy rekor_http tsp tuf
fuzz: $(CARGO_FUZZ)
	FUZZ_TARGETS="$(FUZZ_TARGETS)" fuzz/run.sh $(FUZZ_SECONDS)
fuzz-long: $(CARGO_FUZZ)
	FUZZ_TARGETS="$(FUZZ_TARGETS)" fuzz/run.sh $(FUZZ_LONG_SECONDS)
