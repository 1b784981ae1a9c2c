# SPDX-License-Identifier: GPL-2.0-only
# vsockscope — see README.md. Quiet unless V=1.

PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
CC ?= gcc
VERSION := 0.1

Q := @
ifeq ($(V),1)
Q :=
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=gnu11 $(WARN) $(CFLAGS) -Ilib -DVS_VERSION='"$(VERSION)"' \
	-D_GNU_SOURCE -MMD -MP
LDLIBS := -lm -lpthread

# the capture backends need libtracefs/libtraceevent (and libbpf): only
# vsock-trace links them, the core and its tests do not
CAP_SRCS := lib/source_tracefs.c
LIB_SRCS := $(filter-out $(CAP_SRCS),$(wildcard lib/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB := $(BUILD)/libvsockscope.a
CAP_OBJS := $(CAP_SRCS:%.c=$(BUILD)/%.o)
CAP_LIBS := $(shell pkg-config --libs libtracefs libtraceevent 2>/dev/null)
CAP_CFLAGS := $(shell pkg-config --cflags libtracefs libtraceevent 2>/dev/null)
TRACE_OBJS := $(BUILD)/tools/vsock-trace/main.o \
	$(BUILD)/tools/vsock-trace/backend.o $(BUILD)/tools/common.o

TOP_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tools/vsocktop/*.c)) \
	$(BUILD)/tools/vsock-trace/backend.o $(BUILD)/tools/common.o
CURSES_LIBS := $(shell pkg-config --libs ncursesw 2>/dev/null || \
	echo -lncursesw -ltinfo)

TOOLS := vsock-report vsock-refdev vsock-trace vsocktop
TOOL_BINS := $(TOOLS:%=$(BUILD)/%)

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
# the same unit tests under AddressSanitizer and UndefinedBehaviorSanitizer
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
SAN_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/san/%)

# Debian packages the build and the tests need (make deps installs them);
# the real-kernel tier's come from tests/vm/prepare.sh
DEB_PKGS := gcc make libc6-dev clang libclang-rt-14-dev jq groff-base \
	pkg-config libtracefs-dev libtraceevent-dev libncurses-dev tmux expect iproute2 \
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static \
	libtracefs-dev:arm64 libtraceevent-dev:arm64 \
	llvm libbpf-dev bpftool libelf-dev zlib1g-dev \
	libbpf-dev:arm64 libelf-dev:arm64 zlib1g-dev:arm64 \
	$(shell tests/vm/prepare.sh --print-deps)

# BPF probes: bpf/*.bpf.c → $(BUILD)/bpf/*.bpf.o → *.skel.h, which
# lib/source_bpf.c includes; libbpf from pkg-config
BPF_CLANG ?= clang
BPFTOOL ?= $(or $(shell command -v bpftool 2>/dev/null),/usr/sbin/bpftool)
BPF_ARCH ?= $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
BPF_MULTIARCH := $(shell gcc -print-multiarch 2>/dev/null)
BPF_CFLAGS := -g -O2 -target bpf -ffreestanding -Wall -Werror \
	-D__TARGET_ARCH_$(BPF_ARCH) -Ibpf -Ilib \
	$(if $(BPF_MULTIARCH),-I/usr/include/$(BPF_MULTIARCH))
BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_SKELS := $(BPF_SRCS:bpf/%.bpf.c=$(BUILD)/bpf/%.skel.h)
ALL_CFLAGS += -I$(BUILD)/bpf $(shell pkg-config --cflags libbpf 2>/dev/null)
LDLIBS += $(shell pkg-config --libs libbpf libelf zlib 2>/dev/null || \
	echo -lbpf -lelf -lz)

.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
# the android rule below comes first; plain make builds all
.DEFAULT_GOAL := all
.PHONY: all deps check demo bench install clean unit fuzz vm-check android

# Android and other arm64 Linux: a static aarch64 vsock-trace, built with
# Debian's cross compiler and the arm64 libraries (multiarch)
ANDROID_CC ?= aarch64-linux-gnu-gcc
android:
	$(Q)$(MAKE) --no-print-directory BUILD=$(BUILD)/android \
		CC=$(ANDROID_CC) STATIC=1 BPF_ARCH=arm64 \
		PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig \
		$(BUILD)/android/vsock-trace
	@echo "  $(BUILD)/android/vsock-trace: adb push it to /data/local/tmp"

all: $(LIB) $(TOOL_BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) lib/event.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  BPF     $<")
	$(Q)$(BPF_CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	@$(if $(Q),echo "  GEN     $@")
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

$(BUILD)/lib/source_bpf.o $(SAN_BINS): $(BPF_SKELS)
.SECONDARY: $(BPF_SKELS:.skel.h=.bpf.o)

$(LIB): $(LIB_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/vsock-report: $(BUILD)/tools/vsock-report/main.o \
		$(BUILD)/tools/common.o $(LIB)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/vsock-trace: $(TRACE_OBJS) $(CAP_OBJS) $(LIB)
	@$(if $(Q),echo "  LINK    $@$(if $(STATIC), (static))")
	$(Q)$(CC) $(CFLAGS) $(if $(STATIC),-static) -o $@ $^ $(CAP_LIBS) \
		$(LDLIBS) $(if $(STATIC),-ldl 2>&1 | \
		{ grep -v "dlopen\|load_plugin\|getaddrinfo\|open_stream" || true; })

$(CAP_OBJS) $(TRACE_OBJS) $(TOP_OBJS): ALL_CFLAGS += $(CAP_CFLAGS)

$(BUILD)/vsocktop: $(TOP_OBJS) $(CAP_OBJS) $(LIB)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(CAP_LIBS) $(CURSES_LIBS) $(LDLIBS)

# the guest's copy: static (batch mode is what the tier runs)
$(BUILD)/vm/guest/vsocktop: $(TOP_OBJS) $(CAP_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@ (static)")
	$(Q)$(CC) $(CFLAGS) -static -o $@ $^ $(CAP_LIBS) $(CURSES_LIBS) \
		$(LDLIBS) -ldl 2>&1 | \
		{ grep -v "dlopen\|load_plugin\|getaddrinfo\|open_stream" || true; }

$(BUILD)/vsock-refdev: $(BUILD)/tools/vsock-refdev/main.o \
		$(BUILD)/tools/vsock-refdev/sim.o \
		$(BUILD)/tools/vsock-refdev/serve.o $(BUILD)/tools/common.o $(LIB)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(LIB) $(LDLIBS)

$(BUILD)/san/%: tests/unit/%.c $(LIB_SRCS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  ASAN    $@")
	$(Q)$(CC) -std=gnu11 $(WARN) $(SAN_FLAGS) -Ilib -Itests/unit -D_GNU_SOURCE \
		-I$(BUILD)/bpf -o $@ $< $(LIB_SRCS) $(LDLIBS)

# the guest's copy for the VM tier: static, it runs in a busybox initramfs
$(BUILD)/vm/guest/vsock-report: $(BUILD)/tools/vsock-report/main.o \
		$(BUILD)/tools/common.o $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@ (static)")
	$(Q)$(CC) $(CFLAGS) -static -o $@ $^ $(LDLIBS)

# moves checked bytes and files over vsock, hybrid vsock, Unix and TCP
$(BUILD)/vsockio: tests/vm/vsockio.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=gnu11 $(WARN) -O2 -D_GNU_SOURCE -pthread -o $@ $<

# stands in for QEMU in front of vsock-refdev serve (test_serve.sh)
$(BUILD)/vu-frontend: tests/integration/vu-frontend.c $(LIB)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(BUILD)/vm/guest/vsock-trace: $(TRACE_OBJS) $(CAP_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@ (static)")
	$(Q)$(CC) $(CFLAGS) -static -o $@ $^ $(CAP_LIBS) $(LDLIBS) -ldl 2>&1 | \
		{ grep -v "dlopen\|load_plugin\|getaddrinfo\|open_stream" || true; }

$(BUILD)/gentrace: tests/bench/gentrace.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=gnu11 $(WARN) -O2 -o $@ $<

$(BUILD)/sockpair: tests/bench/sockpair.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=gnu11 $(WARN) -O2 -D_GNU_SOURCE -o $@ $<

$(BUILD)/maxrss: tests/bench/maxrss.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=gnu11 $(WARN) -O2 -D_GNU_SOURCE -o $@ $<

# Installs what the build and every test tier need; does nothing when all
# of it is there already.
deps:
	@missing=""; for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "  DEPS   $$missing"; \
		if [ "$$(id -u)" != 0 ]; then echo "make deps: run as root to install:$$missing" >&2; exit 1; fi; \
		case "$$missing" in *:arm64*) \
			dpkg --print-foreign-architectures | grep -qx arm64 || \
				dpkg --add-architecture arm64 ;; \
		esac; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

unit: $(UNIT_BINS) $(SAN_BINS)

check: deps
	$(Q)$(MAKE) --no-print-directory all unit $(BUILD)/gentrace \
		$(BUILD)/vu-frontend $(BUILD)/vsockio
	$(Q)tests/run.sh $(BUILD)

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/demo.sh $(BUILD)

bench: deps
	$(Q)$(MAKE) --no-print-directory all $(BUILD)/gentrace $(BUILD)/maxrss \
		$(BUILD)/sockpair
	$(Q)tests/bench/report-bench.sh $(BUILD)
	$(Q)tests/bench/top-bench.sh $(BUILD)
	$(Q)DUR=2000 tests/bench/refdev-bench.sh $(BUILD)
	$(Q)tests/vm/serve-tier.sh $(BUILD) bench

# the real-kernel tier alone (make check runs it too)
vm-check: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/vm/serve-tier.sh $(BUILD) check

fuzz: all
	$(Q)tests/fuzz/run-fuzz.sh $(BUILD) $${FUZZ_SECONDS:-60}

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man5
	install -m 0755 $(TOOL_BINS) $(DESTDIR)$(PREFIX)/bin/
	install -d $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 man/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/

clean:
	rm -rf $(BUILD)

-include $(LIB_OBJS:.o=.d) $(wildcard $(BUILD)/tools/*/*.d)
