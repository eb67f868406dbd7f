# hookline: `make run` to try it, `make test` for the whole suite.
GO          ?= go
BIN         := bin/hookline
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Packages whose tests exercise concurrency; they also run under the race
# detector. The dashboard's are browser tests of the built binary: nothing
# of theirs runs concurrently in the test process.
RACE_PKGS   := $(shell $(GO) list ./wal/... ./engine/... ./httpout/... ./httpin/... ./bench/... ./internal/... | grep -v /internal/dashboard)

.PHONY: build run test test-race bench lint fmtcheck fuzz clean chromium interpreters

build:
	$(GO) build -o $(BIN) ./cmd/hookline

# Starts the server with the embedded default config and data in ./data.
# 127.0.0.0/8 is allowed as a delivery target so `hookline sink` on this
# machine can receive; production configs leave it out.
run: build
	./$(BIN) serve --data ./data --allow-net 127.0.0.0/8

# The engine's and the API's suites run a second time on a replicated
# store, as a cluster node's is (internal/replicatest).
test: fmtcheck chromium interpreters
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 9m ./...
	HOOKLINE_TEST_STORE=replica $(GO) test -count=1 -timeout 9m ./engine/ ./httpin/
	$(GO) test -count=1 -race -timeout 9m $(RACE_PKGS)

# The dashboard's browser tests (internal/dashboard) drive headless
# Chromium. When none is found it is installed with apt-get (as root);
# otherwise the suite stops here, saying how to get one: it never skips.
chromium:
	@if [ -n "$$HOOKLINE_CHROMIUM" ] || command -v chromium >/dev/null 2>&1 || \
		command -v chromium-browser >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Chromium for the dashboard's browser tests (apt-get install chromium)..."; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q && apt-get install -y -q chromium; } || \
		{ echo "Cannot install Chromium with apt-get. Install the chromium package, or set HOOKLINE_CHROMIUM to a Chrome or Chromium binary."; exit 1; }; \
	else \
		echo "The dashboard's browser tests need Chromium. Run 'sudo apt-get install chromium' (Debian, Ubuntu), or set HOOKLINE_CHROMIUM to a Chrome or Chromium binary."; \
		exit 1; \
	fi

# The receiver samples' test (cmd/hookline TestReceiverSamples) runs
# docs/examples in Python, Node, Ruby and PHP. Missing interpreters are
# installed with apt-get (as root); otherwise the suite stops here, saying
# how to get them: it never skips a language.
INTERPRETERS := python3:python3 node:nodejs ruby:ruby php:php-cli
interpreters:
	@missing=; for p in $(INTERPRETERS); do \
		command -v $${p%%:*} >/dev/null 2>&1 || missing="$$missing $${p#*:}"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing$$missing for the receiver samples' test (apt-get install$$missing)..."; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -q $$missing >/dev/null 2>&1 || { apt-get update -q && apt-get install -y -q $$missing; } || \
		{ echo "Cannot install$$missing with apt-get. Install them (apt-get install ruby php-cli python3 nodejs) to run the receiver samples' test."; exit 1; }; \
	else \
		echo "The receiver samples' test needs$$missing. Run 'sudo apt-get install$$missing' (Debian, Ubuntu), or install them another way."; \
		exit 1; \
	fi

test-race:
	$(GO) test -count=1 -race -timeout 9m $(RACE_PKGS)

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./...

# Unformatted files fail the suite: formatting is not a review topic.
fmtcheck:
	@out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "gofmt -w these files:"; echo "$$out"; exit 1; fi

lint: fmtcheck
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# The crash torture: 20 kill -9 / restart cycles of the real binary under
# load with failing receivers, in each ingest durability mode (about a
# minute; not part of `make test`).
.PHONY: torture
torture:
	$(GO) test -tags torture -run TestCrashTorture20 -count=1 -v ./cmd/hookline

# Runs each fuzz target for FUZZTIME (go test -fuzz takes one target at a time).
FUZZTIME ?= 30s
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

clean:
	rm -rf bin
