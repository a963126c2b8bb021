# sigbox — build, test, bench, run. `make test` is the one command CI runs.
SHELL := /bin/bash
CARGO ?= cargo
TRIPLE := x86_64-unknown-linux-gnu
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
RELEASE_BIN := $(TARGET_DIR)/$(TRIPLE)/release/sigbox
STATIC_FLAGS := -C target-feature=+crt-static -C relocation-model=static

.PHONY: build release test lint unit bench up fuzz clean-venv tools

## Independent clients the tests and benchmarks compare against, installed once inside the
## clone: sigstore-python (and pyca/cryptography) in .venv.
VENV := .venv
$(VENV)/.stamp:
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check sigstore==4.5.1
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
	$(CARGO) bench --bench ops

## The local instance: CA + CT log, transparency log and a test OIDC issuer on
## 127.0.0.1:3000-3002, state in .sigbox-up/ (kept across restarts). Ctrl-C stops it.
UP_DATA ?= $(CURDIR)/.sigbox-up
up: release
	$(RELEASE_BIN) install-links $(CURDIR)/bin >/dev/null
	$(RELEASE_BIN) up --data-dir $(UP_DATA)

## Coverage-guided fuzzing (cargo-fuzz; needs `cargo install cargo-fuzz`). Seeds come from
## fuzz/corpus/<target>; what the fuzzer learns goes to fuzz/target/corpus (not committed).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := bundle trusted_root x509 keys gitsign
fuzz:
	cd fuzz && for t in $(FUZZ_TARGETS); do \
	  mkdir -p target/corpus/$$t corpus/$$t && \
	  RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none $$t target/corpus/$$t corpus/$$t -- \
	    -max_total_time=$(FUZZ_SECONDS) || exit 1; \
	done
