# SPDX-License-Identifier: Apache-2.0
# Thin wrapper over CMake: the commands a newcomer and CI type. `make help` lists them.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

JOBS ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 30
SANITIZE ?= 0

ifeq ($(SANITIZE),1)
BUILD_DIR ?= build-san
CMAKE_FLAGS += -DFEDNS_SANITIZE=ON
# Leaks count as failures; UBSan stops at the first report (the build sets
# -fno-sanitize-recover) and says where.
export ASAN_OPTIONS ?= detect_leaks=1
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1
else
BUILD_DIR ?= build
endif
FUZZ_DIR ?= build-fuzz

# Every libFuzzer target is tests/fuzz/fuzz_<name>.c; the build names it fuzz_<name>.
FUZZ_TARGETS := $(basename $(notdir $(wildcard tests/fuzz/fuzz_*.c)))
FORMAT_DIRS := $(wildcard common dns cli tests bench spoke hub tls proto)
FORMAT_FILES = $(shell find $(FORMAT_DIRS) -type f -name '*.[ch]' -not -path '*/corpus/*' | sort)

.PHONY: help deps build test fuzz fuzz-run format format-check \
	bench-zone-parse bench-axfr-out bench-ixfr-propagation bench-hub-commit bench-propagation demo clean

help:
	@echo "make test              install missing Debian packages, build (-Werror), run all tests"
	@echo "make test SANITIZE=1   the same in build-san/ with ASan+UBSan (leaks are failures)"
	@echo "make build             configure and build into $(BUILD_DIR)/ with warnings as errors"
	@echo "make deps              install missing Debian 12 packages (prints the command if not root)"
	@echo "make fuzz              build the libFuzzer targets with clang into $(FUZZ_DIR)/"
	@echo "make fuzz-run          run each fuzz target FUZZ_SECONDS (default 30) on a copy of its corpus"
	@echo "make format            clang-format -i every .c/.h"
	@echo "make format-check      fail if any .c/.h differs from .clang-format"
	@echo "make bench-zone-parse  fedns vs named-checkzone vs kzonecheck on a 1,000,000-record zone"
	@echo "make bench-axfr-out    fedns-spoke vs knotd vs named serving a 1,000,000-record AXFR"
	@echo "make bench-ixfr-propagation  diff to BIND secondary latency vs a BIND9 pair"
	@echo "make bench-hub-commit  durable hub commits/s and latency at 1 and 16 clients"
	@echo "make bench-propagation commit -> every secondary on 1 and 8 spokes vs a BIND9 pair; fan-out rate"
	@echo "make demo              a hub, spokes east and west with two BIND9 secondaries each,"
	@echo "                       a change approved by four eyes, every secondary in_sync; Ctrl-C stops it"
	@echo "make clean             remove build/, build-san/, build-fuzz/, build-bench/"

deps:
	scripts/install-deps.sh

define do_build
	cmake -S . -B $(BUILD_DIR) -DFEDNS_WERROR=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR) -j $(JOBS)
endef

build:
	$(do_build)

# Sequential on purpose: dependencies first, even under make -j.
test:
	scripts/install-deps.sh
	$(do_build)
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j2

ifeq ($(FUZZ_TARGETS),)
fuzz:
	@echo "fuzz: no tests/fuzz/fuzz_*.c targets yet"
else
fuzz:
	CC=clang cmake -S . -B $(FUZZ_DIR) -DCMAKE_C_COMPILER=clang -DFEDNS_FUZZ=ON \
		-DFEDNS_SANITIZE=ON
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target $(FUZZ_TARGETS)
endif

fuzz-run:
	scripts/fuzz-run.sh $(FUZZ_DIR)/tests/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

format:
	clang-format -i $(FORMAT_FILES)

format-check:
	@bad=(); for f in $(FORMAT_FILES); do \
		out=$$(clang-format --dry-run -Werror "$$f" 2>&1) || { bad+=("$$f"); \
			head -n 12 <<<"$$out" >&2; }; \
	done; \
	if (( $${#bad[@]} )); then \
		echo "format-check: $${#bad[@]} file(s) differ from .clang-format (fix: make format):" >&2; \
		printf '  %s\n' "$${bad[@]}" >&2; exit 1; \
	fi; \
	echo "format-check: $(words $(FORMAT_FILES)) files clean"

# Its own build dir: the bench configures it as a Release build, apart from the test builds.
bench-zone-parse:
	@test -x bench/zone_parse/run || { echo "bench-zone-parse: bench/zone_parse/run does not exist yet" >&2; exit 1; }
	FEDNS_BUILD=$(abspath build-bench) bench/zone_parse/run

bench-axfr-out:
	FEDNS_BUILD=$(abspath build-bench) bench/axfr_out/run

bench-ixfr-propagation:
	FEDNS_BUILD=$(abspath build-bench) bench/ixfr_propagation/run

bench-hub-commit:
	FEDNS_BUILD=$(abspath build-bench) bench/hub_commit/run

bench-propagation:
	FEDNS_BUILD=$(abspath build-bench) bench/propagation/run

# Installs what is missing, builds, and runs the federation on loopback until Ctrl-C.
demo:
	scripts/install-deps.sh
	$(do_build)
	scripts/demo.sh $(BUILD_DIR)

clean:
	rm -rf build build-san build-fuzz build-bench
