# Rust struct_ops for Linux 7.3: build, boot and test.
#
#   make run     build everything, boot the guest, show the demo
#   make test    build everything, run the whole suite in the guest
#   make shell   an interactive shell in the guest
#   make kernel  just the kernel
#   make lint    clippy, rustfmt and checkpatch on our code
#   make conformance  the upstream struct_ops selftests, C and Rust side by side
#   make scx     sched_ext (selftests, example schedulers, our checks), C and Rust side by side
#   make scx-rust  the sched_ext project's Rust schedulers (crates.io), C and Rust side by side
#   make bench   benchmarks, Rust against C (BENCH_ROUNDS boots of each, 5; ICOUNT=1 adds instruction counts)
#   make bench-profile  instructions per syscall and function of a registration cycle, C and Rust
#   make bench-pcprof   every kernel instruction of registration cycles, per function (Rust too)
#   make code-size  text and data each implementation adds to vmlinux, from symbol sizes
#   make stress  concurrency stress (STRESS_SECS, 60) and fault injection on the debug kernel (STRESS_DEBUG=1)
#   make series  the patch series in build/series/; series-check checks it (BISECT=0: no build per step)
#   make check-all  every check: what CI runs (.ci/run), then arm64 on C, kCFI, C's debug suite, ...
#   make clean   remove this implementation's build; distclean removes all
#
# IMPL=rust (default) or IMPL=c (the stock kernel/bpf/bpf_struct_ops.c);
# TCP=rust or TCP=c picks the TCP congestion control struct_ops type
# (net/ipv4/bpf_tcp_ca_ops.rs or bpf_tcp_ca.c), IMPL's by default;
# DEBUG=1 adds KASAN, lockdep, atomic-sleep checks and kmemleak;
# ARCH=arm64 builds for arm64 and boots qemu-system-aarch64 (x86_64 by
# default); CFI=1 turns on clang's kernel control-flow integrity (kCFI), the
# default for x86_64's kernel (CFI=0 turns it off; not the debug kernel's).

IMPL  ?= rust
TCP   ?= $(IMPL)
DEBUG ?= 0
BISECT ?= 1
FIXES ?= 0
ARCH  ?= x86_64
CFI   ?= $(if $(filter x86_64,$(ARCH)),$(if $(filter 1,$(DEBUG)),0,1),0)
BUILD ?= $(CURDIR)/build
# KSRC=DIR: build and test your own kernel tree (e.g. with the series
# applied by git am) instead of the harness's. It is never written to:
# set-up mirrors its sources into $(BUILD)/ksrc/linux and applies nothing
# (harness/mirror-tree.sh); every build folder is under $(BUILD)/ksrc.
KSRC  ?=
# FIXES=1: our fixes of 7.3's C (patches/fixes/) on top, in a tree of their own,
# laid out as build/ is so that ccache finds build/linux's objects.
FIX   := $(if $(filter 1,$(FIXES)),-fixes)
BTREE := $(BUILD)$(if $(KSRC),/ksrc)
TREE  := $(BTREE)$(if $(FIX),/fixes)
SRC   := $(TREE)/linux
# Build folders: build/<impl>[-tcp<tcp>][-debug][-arm64][-cfi], -tcp<tcp>
# when TCP is not IMPL.
AVAR  := $(if $(filter arm64,$(ARCH)),-arm64)$(if $(filter 1,$(CFI)),-cfi)
VAR   := $(if $(filter-out $(IMPL),$(TCP)),-tcp$(TCP))$(if $(filter 1,$(DEBUG)),-debug)$(AVAR)
OUT   := $(TREE)/$(IMPL)$(VAR)
H     := $(CURDIR)/harness
TIMED := $(H)/timed.sh
# The whole suite takes about 6 minutes under TCG, four times that on the
# debug kernel, and more than twice as long beside kernel builds (CI).
GUEST_TIMEOUT ?= $(if $(filter 1,$(DEBUG)),3600,1800)

# SRC is the harness's own tree, which set-up deletes and extracts again:
# never a checkout of yours (BUILD= moves the harness's trees).
ifeq ($(origin SRC),command line)
$(error SRC is the harness's own tree ($$(BUILD)/linux) and cannot be set: set BUILD= to move it; KSRC= builds and tests your own tree without writing to it)
endif
ifneq ($(KSRC),)
ifneq ($(FIXES),0)
$(error FIXES=1 applies patches, and KSRC= applies nothing: apply patches/fixes/ to your tree yourself)
endif
endif
ifeq ($(filter $(IMPL),rust c),)
$(error IMPL must be rust or c)
endif
ifeq ($(filter $(TCP),rust c),)
$(error TCP must be rust or c)
endif
ifeq ($(filter $(ARCH),x86_64 arm64),)
$(error ARCH must be x86_64 or arm64)
endif
# The harness's scripts read the target arch and kCFI from these.
export ST_ARCH := $(ARCH)
export ST_CFI := $(CFI)
export ST_IMPL := $(IMPL)
export ST_TCP := $(TCP)
# KVM=1: qemu.sh probes KVM and uses it where it boots a guest.
KVM ?= 0
export KVM

.PHONY: all deps tree kernel userspace run test shell lint code-size conformance scx scx-rust scx-rust-build bench bench-profile bench-pcprof stress series series-check check-all x86-only clean distclean
all: userspace

deps:
	@$(TIMED) deps $(H)/deps.sh

tree: deps
ifneq ($(KSRC),)
	@$(TIMED) tree $(H)/mirror-tree.sh $(CURDIR) $(KSRC) $(SRC)
else
	@FIXES=$(FIXES) $(TIMED) tree $(H)/prepare-tree.sh $(CURDIR) $(SRC)
endif

kernel: tree
	@$(TIMED) kernel $(H)/build-kernel.sh $(SRC) $(OUT) $(IMPL) $(DEBUG)

userspace: kernel
	@$(TIMED) userspace $(H)/build-userspace.sh $(CURDIR) $(SRC) $(OUT)

run: userspace
	@$(TIMED) guest $(H)/qemu.sh $(OUT) demo $(GUEST_TIMEOUT) -v

test: userspace
	@KCMDLINE="$(if $(FIX),st_fixes=1) $(KCMDLINE)" $(TIMED) guest \
		$(H)/run-suite.sh $(OUT) $(GUEST_TIMEOUT) $(IMPL)$(FIX)

shell: userspace
	@$(H)/qemu.sh $(OUT) shell

# The base tree's struct_ops selftests on both implementations, side by side.
conformance:
	-@$(MAKE) --no-print-directory test IMPL=c DEBUG=$(DEBUG) > $(BTREE)/conformance-c.log 2>&1
	-@$(MAKE) --no-print-directory test IMPL=rust DEBUG=$(DEBUG) > $(BTREE)/conformance-rust.log 2>&1
	@$(H)/conformance-table.sh $(BTREE)/c$(VAR)/logs/test.results \
		$(BTREE)/rust$(VAR)/logs/test.results

# sched_ext on both implementations, side by side (the guest script scx runs
# tests/40-scx alone). A splat in either guest's log is a failed row.
SCX_C    := $(BTREE)/c$(VAR)
SCX_RUST := $(BTREE)/rust$(VAR)
scx:
	@$(MAKE) --no-print-directory userspace IMPL=c DEBUG=$(DEBUG)
	@$(MAKE) --no-print-directory userspace IMPL=rust DEBUG=$(DEBUG)
	-@$(TIMED) guest-c $(H)/run-suite.sh $(SCX_C) $(GUEST_TIMEOUT) c scx > /dev/null
	-@$(TIMED) guest-rust $(H)/run-suite.sh $(SCX_RUST) $(GUEST_TIMEOUT) rust scx > /dev/null
	@$(H)/conformance-table.sh $(SCX_C)/logs/scx.report $(SCX_RUST)/logs/scx.report "scx guest"

# The sched_ext project's published Rust schedulers (crates.io, cargo
# install --locked, cached in build/scx-rust) on both implementations, side
# by side: each attaches, schedules a workload and detaches; switching 50
# times; a loader killed in its start-up 100 times; counts back at the end
# (harness/guest/scx-rust). Their archive is added to each kernel's
# initramfs; the two guests run at once. x86_64.
SCXR := $(BUILD)/scx-rust
# Both guests at once, each loading a dozen large BPF schedulers 160 times.
SCXR_TIMEOUT ?= 3600
# SCXR_SCHEDS="scx_rusty scx_bpfland": only these schedulers of the release.
SCXR_SCHEDS ?=
export SCXR_SCHEDS
scx-rust-build: x86-only
	@ST_SCX_RUST=1 $(TIMED) deps $(H)/deps.sh
	@$(TIMED) scx-rust-build $(H)/build-scx-rust.sh $(SCXR) $(SCXR)/scx-rust.cpio.gz

scx-rust: scx-rust-build
	@$(MAKE) --no-print-directory userspace IMPL=c DEBUG=$(DEBUG)
	@$(MAKE) --no-print-directory userspace IMPL=rust DEBUG=$(DEBUG)
	@for d in $(SCX_C) $(SCX_RUST); do \
		cat $$d/initramfs.cpio.gz $(SCXR)/scx-rust.cpio.gz > $$d/initramfs-scx-rust.cpio.gz || exit 1; \
	done
	-@ST_INITRD=$(SCX_C)/initramfs-scx-rust.cpio.gz $(TIMED) guest-c \
		$(H)/run-suite.sh $(SCX_C) $(SCXR_TIMEOUT) c scx-rust > /dev/null & \
	 ST_INITRD=$(SCX_RUST)/initramfs-scx-rust.cpio.gz $(TIMED) guest-rust \
		$(H)/run-suite.sh $(SCX_RUST) $(SCXR_TIMEOUT) rust scx-rust > /dev/null; wait
	@$(H)/conformance-table.sh $(SCX_C)/logs/scx-rust.report $(SCX_RUST)/logs/scx-rust.report \
		"scx_rust guest"

# Concurrency stress: threads race on struct_ops maps, links, sockets and the
# default CA for STRESS_SECS seconds, then fault injection into every
# allocation of map create, register and link create (kernels with
# fail-nth), on the debug kernel unless STRESS_DEBUG=0 (KASAN, lockdep and
# kmemleak watch; the log must stay clean).
STRESS_SECS  ?= 60
STRESS_DEBUG ?= 1
STRESS_CFI   := $(if $(filter 1,$(STRESS_DEBUG)),0,$(CFI))
STRESS_OUT   := $(BTREE)/$(IMPL)$(if $(filter 1,$(STRESS_DEBUG)),-debug)$(if $(filter arm64,$(ARCH)),-arm64)$(if $(filter 1,$(STRESS_CFI)),-cfi)
stress:
	@$(MAKE) --no-print-directory userspace IMPL=$(IMPL) DEBUG=$(STRESS_DEBUG) CFI=$(STRESS_CFI)
	@KCMDLINE="stress_secs=$(STRESS_SECS) $(KCMDLINE)" $(TIMED) guest \
		$(H)/run-suite.sh $(STRESS_OUT) 1800 $(IMPL) stress

# Benchmarks: both kernels booted side by side (BENCH_PAIRED=0: in turn),
# medians and Rust/C ratios.
BENCH_ROUNDS ?= 5
BENCH_PAIRED ?= 1
# ICOUNT=1: ICOUNT_ROUNDS more rounds under QEMU's instruction counting,
# every time figure in guest instructions per operation (BENCH_ROUNDS=0:
# those only).
ICOUNT ?= 0
ICOUNT_ROUNDS ?= 3
# ARCH=arm64: the arm64 kernels (results in build/bench-arm64).
# SCX_RUST=1 (x86_64): the scheduling workloads also under the sched_ext
# project's scx_rusty (make scx-rust's build), sched_pipe_rusty and
# sched_fork_rusty.
SCX_RUST ?= 0
bench:
	@$(MAKE) --no-print-directory userspace IMPL=rust DEBUG=0
	@$(MAKE) --no-print-directory userspace IMPL=c DEBUG=0
	@if [ "$(SCX_RUST)" = 1 ]; then ST_SCX_RUST=1 $(H)/deps.sh && \
		$(TIMED) scx-rust-build $(H)/build-scx-rust.sh $(SCXR) $(SCXR)/scx-rust.cpio.gz; fi
	@BENCH_SCXR=$(if $(filter 1,$(SCX_RUST)),$(SCXR)/scx-rust.cpio.gz) \
		BENCH_PAIRED=$(BENCH_PAIRED) ICOUNT=$(ICOUNT) ICOUNT_ROUNDS=$(ICOUNT_ROUNDS) $(TIMED) bench \
		$(H)/bench.sh $(BTREE)/rust$(AVAR) $(BTREE)/c$(AVAR) $(BENCH_ROUNDS) $(BTREE)/bench$(AVAR)

# make bench-profile: both kernels under QEMU's instruction counting with
# ftrace on the registration cycles of st_bench (harness/guest/profile):
# instructions per syscall and per traced function, C against Rust.
bench-profile: x86-only
	@$(MAKE) --no-print-directory userspace IMPL=rust DEBUG=0 CFI=0
	@$(MAKE) --no-print-directory userspace IMPL=c DEBUG=0 CFI=0
	@mkdir -p $(BTREE)/bench
	@QEMU_QUIET=1 ICOUNT=1 QEMU_SMP=1 KCMDLINE="tsc=reliable $(KCMDLINE)" $(H)/qemu.sh $(BTREE)/rust profile 1800 & \
	 ICOUNT=1 QEMU_SMP=1 KCMDLINE="tsc=reliable $(KCMDLINE)" $(H)/qemu.sh $(BTREE)/c profile 1800; \
	 c=$$?; wait $$! && [ $$c = 0 ] || { echo "bench-profile: a guest failed" >&2; exit 1; }
	@python3 $(H)/bench-profile.py $(BTREE)/c/logs/profile.results $(BTREE)/rust/logs/profile.results \
		| tee $(BTREE)/bench/profile.txt

# make bench-pcprof: both kernels log every kernel instruction of st_bench's
# registration cycles (harness/pcprof.py): instructions per step and per
# function, Rust functions included, C against Rust.
bench-pcprof: x86-only
	@$(MAKE) --no-print-directory userspace IMPL=rust DEBUG=0 CFI=0
	@$(MAKE) --no-print-directory userspace IMPL=c DEBUG=0 CFI=0
	@mkdir -p $(BTREE)/bench
	@python3 $(H)/pcprof.py run $(BTREE)/rust & python3 $(H)/pcprof.py run $(BTREE)/c; \
	 c=$$?; wait $$! && [ $$c = 0 ] || { echo "bench-pcprof: a guest failed" >&2; exit 1; }
	@python3 $(H)/pcprof.py report $(BTREE)/c $(BTREE)/rust | tee $(BTREE)/bench/pcprof.txt

# Code size: text and data each implementation adds to vmlinux (map and
# TCP type, Rust abstractions included), from symbol sizes.
code-size:
	@$(MAKE) --no-print-directory kernel IMPL=rust
	@$(MAKE) --no-print-directory kernel IMPL=c
	@$(H)/code-size.sh $(BTREE)/c$(AVAR) $(BTREE)/rust$(AVAR)

lint: kernel
	@$(TIMED) lint $(H)/lint.sh . $(SRC) $(OUT)

# The patch series: build/series/ from series/manifest (git format-patch of
# a git repo of the base tree, one commit per patch), and its check: git am
# on a fresh base tree, the same tree as make kernel's, checkpatch --strict,
# and every step built with the Rust map on and off (BISECT=0 skips that).
series: deps
	@$(TIMED) series python3 $(H)/series.py make $(CURDIR) $(BUILD)/series-work $(BUILD)/series

series-check: series
	@BISECT=$(BISECT) $(TIMED) series-check python3 $(H)/series.py check $(CURDIR) \
		$(BUILD)/series-work $(BUILD)/series

# The profiles boot build/rust and build/c (x86_64 without kCFI, whose
# __cfi_ prefixes would split the functions) with x86's serial ports.
x86-only:
	@[ "$(ARCH)" = x86_64 ] || { echo "this target is x86_64 only" >&2; exit 1; }

# Everything CI runs and everything it leaves out (.ci/run all): hours.
check-all:
	@bash $(CURDIR)/.ci/run all

clean:
	rm -rf $(OUT)

distclean:
	rm -rf $(BUILD)
