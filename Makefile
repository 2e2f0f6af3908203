# truce — the two set-up commands are `make demo` and `make test` (see README.md).

GO        ?= go
STATICCHECK = $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.7.0
BIN       := bin/truce
EXAMPLE   := examples/line-of-contact.yaml

.PHONY: all build deps test test-short lint fuzz bench demo clean

all: build

# Everything a fresh machine needs: Go modules, npm packages (Natural Earth boundaries), and the
# Debian packages the tests use (PostGIS as the zone oracle, xmllint for the CAP 1.2 schema). apt runs only where a package is missing.
deps:
	$(GO) mod download
	npm ci --no-audit --no-fund --loglevel=error
	@dpkg -s postgresql-15-postgis-3 >/dev/null 2>&1 || { \
	  echo "installing postgresql-15-postgis-3 (zone oracle for the tests)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15-postgis-3; }
	@dpkg -s libxml2-utils >/dev/null 2>&1 || { \
	  echo "installing libxml2-utils (xmllint: CAP 1.2 schema checks of the alert tests)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libxml2-utils; }

build:
	$(GO) build -o $(BIN) ./cmd/truce

# The test command the README gives and CI runs.
test: deps
	$(GO) test -race -count=1 ./...

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(STATICCHECK) ./...

# Short fuzz runs of every parser (go test -fuzz takes one target at a time). FUZZTIME=5m for longer.
FUZZTIME ?= 30s
FUZZ_TARGETS := \
	./agreement:FuzzLoad ./basemap:FuzzDecode ./locate:FuzzReader ./keys:FuzzParsePrivateKey \
	./ledger:FuzzParseLeaf ./ledger:FuzzCanonicalize ./ledger/verify:FuzzRead \
	./ingest/ais:FuzzParse ./ingest/sbs:FuzzParse ./ingest/readsb:FuzzParse ./ingest/cap:FuzzParse \
	./ingest/geojson:FuzzParse ./ingest/csv:FuzzParse ./ingest/feeds:FuzzDecodeRecord \
	./alert:FuzzParse ./scenario:FuzzParse ./api:FuzzIntakeBody
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; fn=$${t##*:}; echo "fuzz $$pkg $$fn"; \
	  $(GO) test -run XXX -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) $$pkg; done

bench:
	$(GO) test -run XXX -bench . -benchmem -cpu 1 -count 6 ./geo/ ./zonecheck/
	$(GO) test -run XXX -bench . -benchmem -count 6 ./ledger/

# The main job on the embedded default: check the example agreement, run the scenarios (engine
# and CAP alerts), serve on a temporary SQLite store, ingest signed field reports, list the
# incidents, and verify the exported log offline (scripts/demo.sh).
demo: build
	npm ci --no-audit --no-fund --loglevel=error
	@command -v curl >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl; }
	bash scripts/demo.sh

clean:
	rm -rf bin
