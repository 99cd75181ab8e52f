# The two set-up commands of the README:
#   make run    install Debian packages, build, and serve the demo (chat page at http://127.0.0.1:8080/)
#   make test   install Debian packages, build with ASan+UBSan, and run the whole test suite (CI calls this)
# Other targets: chat (terminal chat), build, bench, soak (minutes of chaos under load), test-release (the
# suite on the optimized build), tsan, fuzz (every libFuzzer target for FUZZ_SECONDS each), fuzz-ci (20 s
# each), clean.

BUILD      ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS       ?= $(shell nproc)
TENANT     ?= acme
USER_ID    ?= alice

DEB_PACKAGES := build-essential cmake ccache pkg-config \
  libcaf-dev nlohmann-json3-dev libspdlog-dev catch2 libfasttext-dev libre2-dev libsqlite3-dev \
  libboost-dev libssl-dev libcpp-jwt-dev libcurl4-openssl-dev libhiredis-dev redis-server openssl prometheus-cpp-dev \
  libhnswlib-dev \
  python3 python3-websockets python3-prometheus-client chromium

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

FUZZ_SECONDS ?= 600
FUZZ_SEED    ?=
FUZZ_JOBS    ?= $(JOBS)
FUZZ_PACKAGES := clang libclang-rt-14-dev

.PHONY: deps browser-deps build run chat suite test test-release bench soak sanitize tsan fuzz fuzz-ci clean

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi

# playwright-core drives Debian's chromium in the browser test (npm registry; no browser download).
browser-deps:
	@command -v npm >/dev/null || (echo "installing Debian packages: nodejs npm"; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q nodejs npm)
	@[ -d $(BUILD)/npm/node_modules/playwright-core ] || \
	  (mkdir -p $(BUILD)/npm && cd $(BUILD)/npm && npm install --no-audit --no-fund --silent playwright-core@1)

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS)
	cmake --build $(BUILD) -j$(JOBS)

# The demo on its embedded defaults, with development tokens so the chat page can sign in demo users.
run: build
	./$(BUILD)/actors/support-agent serve --set gateway.dev_tokens=true

chat: build
	./$(BUILD)/actors/support-agent chat --tenant $(TENANT) --user $(USER_ID)

# The whole suite through ctest on the build in $(BUILD), whatever its flags.
suite: build browser-deps
	ctest --test-dir $(BUILD) -j$(JOBS) --output-on-failure --timeout 600

# The README's test command, and CI's: the whole suite built with AddressSanitizer + UndefinedBehaviorSanitizer
# (-DSA_SANITIZE=ON, Debug at -O1, in build-asan), benches included so they keep compiling. One instrumented
# build instead of a plain one and then a sanitized one: on two cores each build of the product takes about
# half an hour, and the instrumented suite checks everything the plain one does, plus memory errors and UB.
test:
	$(MAKE) suite BUILD=build-asan BUILD_TYPE=Debug CMAKE_ARGS="-DSA_SANITIZE=ON"

# The same suite on the optimized build that `make run` and `make bench` use (build/).
test-release:
	$(MAKE) suite

# Every bench, one after another (bench/run_all.sh): one summary table at the end, all JSON lines with the
# machine in $(BUILD)/bench-results.jsonl. BENCH_ARGS=--quick checks the suite in a minute or two;
# BENCH_ARGS="--only pipeline_poll,pipeline_block" runs some of them.
BENCH_ARGS ?=
bench: build
	bench/run_all.sh --build $(BUILD) $(BENCH_ARGS)

# Minutes of 1,000 conversations with provider faults and Redis restarts (bench/soak.py; SOAK_ARGS to tune).
soak: build
	/usr/bin/python3 bench/soak.py --build $(BUILD) $(SOAK_ARGS)

# The name this target had before `make test` became the sanitized suite.
sanitize: test

tsan:
	$(MAKE) suite BUILD=build-tsan BUILD_TYPE=Debug CMAKE_ARGS="-DSA_TSAN=ON -DSA_BUILD_BENCH=OFF"

# libFuzzer targets (tests/fuzz) built with clang, ASan and UBSan in build-fuzz, each run with its seed corpus
# by FUZZ_JOBS processes side by side (one per core by default).
fuzz:
	$(MAKE) deps DEB_PACKAGES="$(DEB_PACKAGES) $(FUZZ_PACKAGES)"
	cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSA_FUZZ=ON -DSA_BUILD_TESTS=OFF
	cmake --build build-fuzz --target fuzz_targets -j$(JOBS)
	FUZZ_SEED=$(FUZZ_SEED) FUZZ_JOBS=$(FUZZ_JOBS) tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

# CI: 20 s per target, one process from a fixed seed, so a failure replays the same way.
fuzz-ci:
	$(MAKE) fuzz FUZZ_SECONDS=20 FUZZ_SEED=1 FUZZ_JOBS=1

clean:
	rm -rf build build-asan build-tsan build-fuzz
