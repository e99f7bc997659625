# touchstream build entry points. `make demo` and `make test` do all set-up themselves.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
# Tests run at once by `make test` (the integration tests mostly wait on the embedded Kafka;
# the busy ones run alone, CMakeLists.txt).
TEST_JOBS ?= 3

DEB_PACKAGES := g++ cmake make pkg-config \
  librdkafka-dev librocksdb-dev libprotobuf-dev protobuf-compiler \
  prometheus-cpp-dev libgtest-dev libgmock-dev libyaml-cpp-dev libcli11-dev \
  libbenchmark-dev libssl-dev libcivetweb-dev libcctz-dev libjemalloc-dev tzdata prometheus

.PHONY: deps build test demo bench bench-ab bench-e2e bench-e2e-ab bench-latency bench-soak bench-restore bench-full clean format

# Installs missing Debian packages (needs root); a fast no-op when all are present.
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing:" $$missing; \
	  if [ "$$(id -u)" != 0 ]; then echo "make deps: run as root to install packages" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

$(BUILD_DIR)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 600 -j $(TEST_JOBS)

demo: build
	$(BUILD_DIR)/touchstream demo $(DEMO_ARGS)

# The micro benchmarks; BM_PipelineScaling (10M customers stored) runs in bench-full.
bench: build
	$(BUILD_DIR)/touchstream_bench --benchmark_filter=-BM_PipelineScaling

# This build against another on the in-process benchmarks, in alternating pairs
# (benchmarks/ab.sh): BASE=path/to/an/older/touchstream_bench, PAIRS (8), FILTER, MIN_TIME.
bench-ab: build
	@if [ -z "$(BASE)" ]; then echo "make bench-ab: set BASE to the touchstream_bench to compare with" >&2; exit 2; fi
	benchmarks/ab.sh $(BASE) $(BUILD_DIR)/touchstream_bench $(PAIRS)

# End-to-end throughput through the embedded Kafka against the raw consumer and a raw pipe, three
# runs and their medians (benchmarks/e2e.sh [EVENTS] [PARTITIONS]).
bench-e2e: build
	TOUCHSTREAM_BIN=$(BUILD_DIR)/touchstream benchmarks/e2e.sh $(E2E_ARGS)

# This build against another (or two settings) end to end, in alternating pairs of one e2e.sh
# run each (benchmarks/e2e_ab.sh): BASE=path/to/an/older/touchstream (its touchstream_baseline
# beside it), PAIRS (5), EVENTS, PARTITIONS, BASE_STATE_OPTIONS, NEW_STATE_OPTIONS,
# BASE_RUN_ARGS, NEW_RUN_ARGS.
bench-e2e-ab: build
	@if [ -z "$(BASE)" ]; then echo "make bench-e2e-ab: set BASE to the touchstream to compare with" >&2; exit 2; fi
	benchmarks/e2e_ab.sh $(BASE) $(BUILD_DIR)/touchstream $(PAIRS)

# Produce → trigger latency at several rates, and the timer fire delay (benchmarks/latency.sh).
bench-latency: build
	TOUCHSTREAM_BIN=$(BUILD_DIR)/touchstream benchmarks/latency.sh

# RSS under steady load over a fixed customer pool, 10 minutes (benchmarks/soak.sh).
bench-soak: build
	TOUCHSTREAM_BIN=$(BUILD_DIR)/touchstream benchmarks/soak.sh

# Cold restore from the changelog and warm restart, against a raw consumer of the same changelog
# (benchmarks/restore.sh [EVENTS] [PARTITIONS]).
bench-restore: build
	TOUCHSTREAM_BIN=$(BUILD_DIR)/touchstream benchmarks/restore.sh $(RESTORE_ARGS)

# What the headline figures leave out (about half an hour): five end-to-end runs for the medians,
# the latency steps, the restore runs, the scaling tables, the 10-minute soak.
bench-full: build
	RUNS=5 TOUCHSTREAM_BIN=$(BUILD_DIR)/touchstream benchmarks/e2e.sh
	TOUCHSTREAM_BIN=$(BUILD_DIR)/touchstream benchmarks/latency.sh
	TOUCHSTREAM_BIN=$(BUILD_DIR)/touchstream benchmarks/restore.sh
	TOUCHSTREAM_BIN=$(BUILD_DIR)/touchstream benchmarks/scaling.sh
	TOUCHSTREAM_BIN=$(BUILD_DIR)/touchstream benchmarks/soak.sh

clean:
	rm -rf $(BUILD_DIR)

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')
