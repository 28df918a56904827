# telnyx-lua: `make demo` and `make test` each do all set-up on a fresh Debian 12 machine.

VERSION := 0.1.0

# Debian 12 packages the build, the specs and the scripts need.
PACKAGES := gcc make lua5.4 liblua5.4-dev libcurl4-openssl-dev lua-cjson lua-cjson-dev \
            lua-busted libreadline-dev lua-socket lua-argparse openssl nghttp2-proxy tinyproxy \
            luarocks man-db

CC ?= cc
CFLAGS ?= -O2 -g
WARNINGS := -std=c11 -Wall -Wextra -pedantic
LUA_INC := /usr/include/lua5.4
ALL_CFLAGS := $(WARNINGS) $(CFLAGS) -fPIC -D_POSIX_C_SOURCE=200809L \
              -DTELNYX_VERSION='"$(VERSION)"' -I$(LUA_INC) -Isrc -Ibuild/gen $(EXTRA_CFLAGS)
# The module's libraries. Lua itself comes from the interpreter that loads the module.
MODULE_LIBS := -lcurl -lm
# Lua is linked in whole and statically, as Debian links its own lua5.4, and its API exported
# (-Wl,-E) to the C modules scripts load (cjson, socket): one library less to load at each start,
# and direct calls into Lua. No -lreadline: the REPL opens it when it starts (src/linedit.c).
HOST_LIBS := -Wl,--whole-archive -l:liblua5.4.a -Wl,--no-whole-archive $(MODULE_LIBS) -ldl
LDFLAGS ?=

PREFIX ?= /usr/local
BUSTED := /usr/bin/busted
LUA := lua5.4

B := build
HOST := $(B)/telnyx-lua
MODULE := $(B)/telnyx.so
HOST_SRC := src/main.c src/repl.c src/linedit.c src/alloc.c
MODULE_SRC := $(filter-out $(HOST_SRC),$(wildcard src/*.c))
# The generated API tables too: lua/telnyx/api/<top>.lua, lua/telnyx/doc/<top>.lua.
LUA_SRC := $(sort $(wildcard lua/telnyx/*.lua lua/telnyx/api/*.lua lua/telnyx/doc/*.lua))
MODULE_OBJ := $(MODULE_SRC:src/%.c=$(B)/obj/%.o) $(B)/obj/embedded.o
HOST_OBJ := $(HOST_SRC:src/%.c=$(B)/obj/%.o)

.PHONY: all deps test demo mock bench install uninstall install-module clean resources check-resources

all: $(HOST) $(MODULE)

# Installs only what is missing, and says what.
deps:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi

# The host links Lua and exports its symbols (-Wl,-E) so C modules such as luasocket load.
# -Wl,-O1: ld sizes the table of exported symbols for short lookups; every library's symbol
# lookups at start consult the binary's table first (scripts/bench/instructions.lua counts it).
$(HOST): $(HOST_OBJ) $(MODULE_OBJ)
	$(CC) $(LDFLAGS) -Wl,-O1 -Wl,-E -o $@ $^ $(HOST_LIBS)

$(MODULE): $(MODULE_OBJ)
	$(CC) $(LDFLAGS) -shared -o $@ $^ $(MODULE_LIBS)

$(B)/obj/%.o: src/%.c | $(B)/obj
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/obj/embedded.o: $(B)/gen/embedded.c $(B)/gen/embedded.bin src/embed.h | $(B)/obj
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Every file under lua/ goes into a section of the binary that is read when a module is
# required, beside an index (the API tables precompiled: scripts/build/embed-lua.lua).
$(B)/gen/embedded.c $(B)/gen/embedded.bin &: $(LUA_SRC) scripts/build/embed-lua.lua | $(B)/gen
	$(LUA) scripts/build/embed-lua.lua $@ $(LUA_SRC)

$(B)/obj $(B)/gen:
	mkdir -p $@

# The API tables are generated from the OpenAPI spec and the SDK's names, by the host, and
# committed; the check regenerates into a temporary directory and compares (and first compares
# the spec's sha256 with the one the index was made from).
resources: $(HOST)
	$(HOST) scripts/build/gen-resources.lua

check-resources: $(HOST)
	@$(HOST) scripts/build/gen-resources.lua --check

test: deps all check-resources
	@sh spec/support/run-busted.sh $(HOST) $(BUSTED)

demo: deps all
	@sh scripts/demo.sh $(HOST)

# The local mock Telnyx API in the foreground, for trying scripts and the REPL by hand.
MOCK_PORT ?= 4010
mock: all
	$(HOST) scripts/mock-server.lua --port $(MOCK_PORT) --verbose

# Benchmarks against the local mock (a few minutes on 2 cores): see scripts/bench/README.md.
BENCH_RUNS ?= 5
bench: deps all $(B)/bench/floor $(B)/bench/lua_floor $(B)/bench/curl_floor $(B)/bench/rusage $(B)/bench/faults \
       $(B)/bench/baseline/build/telnyx-lua
	@$(HOST) scripts/bench/run.lua --runs $(BENCH_RUNS) $(BENCH_ARGS)

# The baseline of scripts/bench/instructions.lua: commit $(BENCH_BASELINE) (the 38-operation
# build, before the API was loaded per resource), built from the repository's history, so that
# both builds are counted in the same run and environment. Without that commit (a shallow clone,
# a tarball) the bench compares with the counts recorded in instructions.lua, and says so.
BENCH_BASELINE := cf9ceb1
$(B)/bench/baseline/build/telnyx-lua: | $(B)/bench
	@rm -rf $(B)/bench/baseline
	@if git cat-file -e '$(BENCH_BASELINE)^{commit}' 2>/dev/null; then \
	  mkdir -p $(B)/bench/baseline && git archive $(BENCH_BASELINE) | tar -x -C $(B)/bench/baseline && \
	  echo "make bench: building the baseline, commit $(BENCH_BASELINE)" && \
	  $(MAKE) --no-print-directory -C $(B)/bench/baseline B=build all >/dev/null; \
	else echo "make bench: commit $(BENCH_BASELINE) is not in this clone: recorded baselines used"; fi

# The floors: a do-nothing program linked with libcurl, a bare Lua host linked as the host is,
# and the measured requests made with libcurl alone; rusage: wall, CPU, peak RSS of a child;
# faults: what a fresh page costs.
$(B)/bench/floor: scripts/bench/floor.c | $(B)/bench
	$(CC) $(WARNINGS) $(CFLAGS) -o $@ $< -lcurl

$(B)/bench/lua_floor: scripts/bench/lua_floor.c | $(B)/bench
	$(CC) $(WARNINGS) $(CFLAGS) -I$(LUA_INC) -Wl,-E -o $@ $< -Wl,--no-as-needed $(HOST_LIBS)

$(B)/bench/curl_floor: scripts/bench/curl_floor.c | $(B)/bench
	$(CC) $(WARNINGS) $(CFLAGS) -D_POSIX_C_SOURCE=200809L -o $@ $< -lcurl

$(B)/bench/rusage: scripts/bench/rusage.c | $(B)/bench
	$(CC) $(WARNINGS) $(CFLAGS) -D_DEFAULT_SOURCE -o $@ $<

$(B)/bench/faults: scripts/bench/faults.c | $(B)/bench
	$(CC) $(WARNINGS) $(CFLAGS) -D_DEFAULT_SOURCE -o $@ $<

$(B)/bench:
	mkdir -p $@

# `make install PREFIX=...`: the host, the module for stock lua5.4, the scripts as commands
# (telnyx-<script>, a wrapper running the installed host on the script under share/), the
# mock's modules and OpenAPI files beside it, and the man page. `make uninstall` removes exactly
# these. LIBDIR is also what `luarocks make` passes to install-module (the rockspec).
LIBDIR ?= $(PREFIX)/lib/lua/5.4
SHAREDIR := $(PREFIX)/share/telnyx-lua
MAN1DIR := $(PREFIX)/share/man/man1
COMMANDS := rotate-ip-allowlist export provision-webrtc-user mock-server
MOCK_FILES := $(notdir $(wildcard scripts/mock/*.lua))
BUILD_FILES := openapi.lua official-sdk-methods.tsv $(notdir $(wildcard scripts/build/*.json))

$(B)/telnyx-lua.1: scripts/build/telnyx-lua.1.in Makefile | $(B)/gen
	sed -e 's|@VERSION@|$(VERSION)|g' $< > $@

install: all $(B)/telnyx-lua.1
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(LIBDIR) $(DESTDIR)$(MAN1DIR) \
	  $(DESTDIR)$(SHAREDIR)/mock $(DESTDIR)$(SHAREDIR)/build
	install -m 755 $(HOST) $(DESTDIR)$(PREFIX)/bin/telnyx-lua
	install -m 644 $(MODULE) $(DESTDIR)$(LIBDIR)/telnyx.so
	install -m 644 $(B)/telnyx-lua.1 $(DESTDIR)$(MAN1DIR)/telnyx-lua.1
	install -m 644 $(MOCK_FILES:%=scripts/mock/%) $(DESTDIR)$(SHAREDIR)/mock
	install -m 644 $(BUILD_FILES:%=scripts/build/%) $(DESTDIR)$(SHAREDIR)/build
	for c in $(COMMANDS); do \
	  install -m 644 scripts/$$c.lua $(DESTDIR)$(SHAREDIR)/$$c.lua && \
	  printf '#!/bin/sh\nexec "%s" "%s" "$$@"\n' "$(PREFIX)/bin/telnyx-lua" "$(SHAREDIR)/$$c.lua" \
	    > $(DESTDIR)$(PREFIX)/bin/telnyx-$$c && chmod 755 $(DESTDIR)$(PREFIX)/bin/telnyx-$$c || exit 1; \
	done

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/telnyx-lua $(DESTDIR)$(LIBDIR)/telnyx.so \
	  $(DESTDIR)$(MAN1DIR)/telnyx-lua.1 $(COMMANDS:%=$(DESTDIR)$(PREFIX)/bin/telnyx-%) \
	  $(COMMANDS:%=$(DESTDIR)$(SHAREDIR)/%.lua) $(MOCK_FILES:%=$(DESTDIR)$(SHAREDIR)/mock/%) \
	  $(BUILD_FILES:%=$(DESTDIR)$(SHAREDIR)/build/%)
	-rmdir $(DESTDIR)$(SHAREDIR)/mock $(DESTDIR)$(SHAREDIR)/build $(DESTDIR)$(SHAREDIR) 2>/dev/null

# Run by `luarocks make` (scripts/build/telnyx-lua-$(VERSION)-1.rockspec): the module only.
install-module: $(MODULE)
	install -d $(DESTDIR)$(LIBDIR)
	install -m 644 $(MODULE) $(DESTDIR)$(LIBDIR)/telnyx.so

clean:
	rm -rf $(B)

# ---- Hardening: sanitizers, valgrind, fuzzing (README "Hardening") ----
# What these need beyond PACKAGES: clang and its runtimes (libFuzzer), valgrind.
HARDEN_PACKAGES := clang libclang-rt-14-dev valgrind
SAN_B := $(B)/asan
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# Specs run under valgrind (those present); scripts/demo.lua also runs against the mock.
VALGRIND_SPECS ?= $(wildcard spec/client_spec.lua spec/json_spec.lua spec/pager_spec.lua)
FUZZ_B := $(B)/fuzz
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := $(patsubst spec/fuzz/%.c,%,$(wildcard spec/fuzz/fuzz_*.c))

.PHONY: deps-hardening sanitize valgrind fuzz fuzz-targets

deps-hardening:
	@$(MAKE) --no-print-directory deps PACKAGES='$(HARDEN_PACKAGES)'

# The host built with ASan+UBSan into $(SAN_B), then the whole suite with it as the interpreter
# of busted and of every process the specs start (TELNYX_LUA); any report fails the run.
sanitize: deps all
	@$(MAKE) --no-print-directory B=$(SAN_B) CFLAGS='-O1 -g $(SAN_FLAGS)' LDFLAGS='$(SAN_FLAGS)' $(SAN_B)/telnyx-lua
	@sh spec/support/sanitize.sh $(SAN_B) $(BUSTED)

valgrind: deps deps-hardening all
	@sh spec/support/valgrind.sh $(HOST) $(BUSTED) $(VALGRIND_SPECS)

# Each libFuzzer target in spec/fuzz/ runs FUZZ_SECONDS from its seed corpus; a finding fails.
fuzz: deps deps-hardening
	@$(MAKE) --no-print-directory B=$(FUZZ_B) CC=$(FUZZ_CC) \
	  CFLAGS='-O1 -g $(SAN_FLAGS) -fsanitize=fuzzer-no-link' fuzz-targets
	@sh spec/fuzz/run.sh $(FUZZ_B) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Run by `fuzz` with B=$(FUZZ_B): the module's objects, built with the fuzzer's flags, linked
# into each target.
fuzz-targets: $(FUZZ_TARGETS:%=$(B)/%)

$(B)/fuzz_%: spec/fuzz/fuzz_%.c spec/fuzz/fuzz.h $(MODULE_OBJ)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $< $(MODULE_OBJ) -llua5.4 $(MODULE_LIBS)

-include $(wildcard $(B)/obj/*.d)
