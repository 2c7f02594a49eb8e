# sbx - rootless, setuid-free sandbox launcher.
VERSION    := 0.1.0
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec
DATADIR    ?= $(PREFIX)/share
MANDIR     ?= $(DATADIR)/man
SYSCONFDIR ?= /etc
DESTDIR    ?=

CC         ?= gcc
CLANG      ?= clang
PKG_CONFIG ?= pkg-config
PKGS       := libcap libseccomp libnl-3.0 libnl-route-3.0 inih jansson libarchive

# sbx is a static PIE: exec maps no loader and no shared library, which
# every `sbx run` would pay for. libarchive, which only image imports need,
# runs in the helper sbx-unpack (sandbox/libexec/sbx-unpack.c, dynamically
# linked), whose output sandbox/store/archive.c reads; sbx uses only libarchive's headers.
STATIC_PKGS := libcap libseccomp libnl-3.0 libnl-route-3.0 inih jansson
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --static --libs-only-l $(STATIC_PKGS) 2>/dev/null)
ARCHIVE_LIBS := $(shell $(PKG_CONFIG) --libs libarchive 2>/dev/null)
# The tests link libarchive for its writer, so they link libc dynamically.
TEST_LIBS  := -Wl,-Bstatic $(filter-out -lpthread,$(PKG_LIBS)) -Wl,-Bdynamic -lpthread \
	$(ARCHIVE_LIBS)

CFLAGS     ?= -O2 -g
HARDEN     := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fstack-clash-protection \
	-fcf-protection -fPIE -Wformat -Wformat-security
WARN       := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
	-Wno-unused-parameter
ALL_CFLAGS := -std=gnu11 $(WARN) $(HARDEN) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP \
	-DSBX_VERSION='"$(VERSION)"' -DSBX_DATADIR='"$(DATADIR)/sbx"' \
	-DSBX_SYSCONFDIR='"$(SYSCONFDIR)/sbx"' -DSBX_LIBEXECDIR='"$(LIBEXECDIR)/sbx"'
ALL_LDFLAGS := -Wl,-z,relro,-z,now $(LDFLAGS)

# sandbox/'s folders are its layers, bottom up: a file includes headers of
# its own layer or below (tests/lint/layers checks it before anything is
# compiled). sandbox/libexec/ holds programs of their own, not part of sbx.
LAYERS   := lib runtime store profile lifecycle cli
SRCS     := $(sort $(wildcard $(LAYERS:%=sandbox/%/*.c)))
HDRS     := $(sort $(wildcard $(LAYERS:%=sandbox/%/*.h) sandbox/libexec/*.h))
LIB_SRCS := $(filter-out sandbox/cli/main.c,$(SRCS))
# The objects `sbx run` never executes are linked after the others: the
# kernel maps a binary's text 64 KiB around each page it faults in
# (fault-around), so code a start never runs costs memory whenever it shares
# such a window with code it does. Kept together, next to libnl (which the
# default network does not use), they fill windows of their own (peak RSS of
# sbx run: 2056 -> 1928 KiB). A file missing from this list only costs that.
COLD_SRCS := $(addprefix sandbox/,cli/cmd-commit.c cli/cmd-complete.c cli/cmd-diff.c \
	cli/cmd-doctor.c cli/cmd-exec.c cli/cmd-image.c cli/cmd-instance.c cli/cmd-oci.c \
	cli/cmd-profile.c cli/cmd-spec.c cli/cmd-unshare.c cli/doctor.c cli/format.c lib/elf.c \
	lifecycle/oci-runtime.c store/archive.c store/bootstrap.c store/copy.c store/diff.c \
	store/extract.c store/import.c store/oci-export.c store/oci-layout.c store/registry.c \
	store/staging.c)
# Two markers around them: sbx_entry (x86-64, cli/main.c) maps the code
# before and after in one system call each, not these.
COLD_MARKS := build/obj/cold-begin.o build/obj/cold-end.o
OBJS     := $(patsubst sandbox/%.c,build/obj/%.o,$(filter-out $(COLD_SRCS),$(SRCS))) \
	$(word 1,$(COLD_MARKS)) $(patsubst sandbox/%.c,build/obj/%.o,$(filter $(COLD_SRCS),$(SRCS))) \
	$(word 2,$(COLD_MARKS))
LIB_OBJS := $(LIB_SRCS:sandbox/%.c=build/obj/%.o)
ASAN_OBJS := $(LIB_SRCS:sandbox/%.c=build/asan/%.o)
FUZZ_OBJS := $(LIB_SRCS:sandbox/%.c=build/fuzz/%.o)

UNIT_SRCS  := $(sort $(wildcard tests/unit/test-*.c))
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=build/unit/%)
FUZZ_SRCS  := $(sort $(wildcard tests/fuzz/fuzz-*.c))
FUZZ_BINS  := $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)
FUZZ_TIME  ?= 30
MANS       := $(patsubst man/%.scd,build/man/%,$(wildcard man/*.scd))

SAN_FLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

.DELETE_ON_ERROR:
# Objects built only for the tests are kept, or every `make unit` and
# `make fuzz` would compile all of sandbox/ again.
.SECONDARY: $(ASAN_OBJS) $(FUZZ_OBJS)
.PHONY: all deps check lint unit integration fuzz fuzz-smoke install uninstall format check-format clean bench man

all: build/sbx build/sbx-oci build/sbx-unpack build/sbx-init $(MANS)

# glibc warns that getaddrinfo and getprotoby* need its NSS at run time:
# libnl's address helpers that pull them in are never called by sbx.
# x86-64: sbx_entry (cli/main.c) populates the relocated segment first, and
# the relative relocations are packed (DT_RELR, glibc 2.36): 1 KB for
# libc's start-up to read instead of 100 KB of pages to fault in.
comma := ,
ENTRY_LDFLAGS := $(if $(filter x86_64-%,$(shell $(CC) -dumpmachine)),-Wl$(comma)-e$(comma)sbx_entry \
	-Wl$(comma)-z$(comma)pack-relative-relocs)

build/sbx: $(OBJS) Makefile
	$(CC) -static-pie $(ALL_LDFLAGS) $(ENTRY_LDFLAGS) -o $@ $(OBJS) $(filter -lnl%,$(PKG_LIBS)) \
		$(filter-out -lnl%,$(PKG_LIBS))

# The markers: an empty function each, placed by the link order (OBJS).
$(COLD_MARKS): build/obj/cold-%.o: Makefile
	@mkdir -p $(@D)
	echo 'void sbx_cold_$*(void); void sbx_cold_$*(void) {}' | \
		$(CC) $(ALL_CFLAGS) -x c -c -o $@ -

# sbx-oci: sbx itself, which speaks runc's command line when called so.
build/sbx-oci: build/sbx
	ln -sf sbx $@

# Every object waits for the layer check (order-only: a new check does not
# recompile everything), so a file that includes a layer above its own fails
# the build.
build/layers.ok: tests/lint/layers $(SRCS) $(HDRS) $(wildcard sandbox/libexec/*.c) Makefile
	@mkdir -p $(@D)
	@tests/lint/layers $(LAYERS) -- $(filter sandbox/%,$^)
	@touch $@

build/sbx-unpack: build/obj/libexec/sbx-unpack.o Makefile
	$(CC) -pie $(ALL_LDFLAGS) -Wl,--as-needed -o $@ $< $(ARCHIVE_LIBS)

# pid 1 of every sandbox (sandbox/libexec/sbx-init.c): static and freestanding, so that
# it runs whatever the sandbox's root holds and its exec costs next to
# nothing; position-independent with no relocations to apply.
INIT_CFLAGS := -std=gnu11 $(WARN) -O2 -g -ffreestanding -fno-builtin -fno-stack-protector \
	-fstack-clash-protection -fcf-protection -fPIE
build/sbx-init: sandbox/libexec/sbx-init.c sandbox/libexec/sbx-sync.h Makefile | build/layers.ok
	$(CC) $(INIT_CFLAGS) -Isandbox -static-pie -nostdlib -Wl,-z,relro,-z,now,-z,noexecstack -o $@ $<
	@if readelf -r $@ | grep -q R_; then echo "$@ has relocations; nothing applies them" >&2; \
		rm -f $@; exit 1; fi

build/obj/%.o: sandbox/%.c | build/layers.ok
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Isandbox -c -o $@ $<

build/asan/%.o: sandbox/%.c | build/layers.ok
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Isandbox -O1 $(SAN_FLAGS) -c -o $@ $<

build/unit/%: tests/unit/%.c tests/unit/tap.h $(ASAN_OBJS) | build/unit
	$(CC) $(ALL_CFLAGS) -O1 $(SAN_FLAGS) -Isandbox -o $@ $< $(ASAN_OBJS) $(TEST_LIBS)

build/fuzz/%.o: sandbox/%.c | build/layers.ok
	@mkdir -p $(@D)
	$(CLANG) -std=gnu11 -g -O1 $(PKG_CFLAGS) -Isandbox -DSBX_FUZZING -DSBX_VERSION='"$(VERSION)"' \
		-DSBX_DATADIR='"$(DATADIR)/sbx"' -DSBX_SYSCONFDIR='"$(SYSCONFDIR)/sbx"' \
		-DSBX_LIBEXECDIR='"$(LIBEXECDIR)/sbx"' -fsanitize=fuzzer-no-link,address,undefined \
		-c -o $@ $<

build/fuzz/fuzz-%: tests/fuzz/fuzz-%.c $(FUZZ_OBJS) | build/fuzz
	$(CLANG) -std=gnu11 -g -O1 $(PKG_CFLAGS) -Isandbox -fsanitize=fuzzer,address,undefined \
		-o $@ $< $(FUZZ_OBJS) $(TEST_LIBS)

build/man/%: man/%.scd | build/man
	scdoc < $< > $@.tmp && mv $@.tmp $@

build/obj build/asan build/unit build/fuzz build/man build/helpers:
	mkdir -p $@

# Installs the Debian packages everything here needs, or says how.
deps:
	.ci/deps all

# Image imports run the helper from the build tree.
unit: $(UNIT_BINS) build/sbx-unpack build/sbx-init
	SBX_LIBEXECDIR=$(CURDIR)/build prove --exec '' $(UNIT_BINS)

HELPERS := $(patsubst tests/helpers/%.c,build/helpers/%,$(wildcard tests/helpers/*.c))

# Static, so they run inside a busybox sandbox.
build/helpers/%: tests/helpers/%.c | build/helpers
	$(CC) -O2 -static -o $@ $<

integration: build/sbx build/sbx-oci build/sbx-unpack build/sbx-init $(HELPERS)
	tests/integration/run

# Checks of the tests themselves: a bare `! cmd` line in a bats file
# checks nothing (tests/lint/bats-bang says why).
BATS_FILES := $(sort $(wildcard tests/integration/*/*.bats tests/integration/*.bash \
	tests/integration/*/*.bash))
lint:
	tests/lint/bats-bang $(BATS_FILES)

check: all lint unit check-format integration fuzz-smoke

fuzz: $(FUZZ_BINS)

# Runs every fuzz target for FUZZ_TIME seconds from its seed corpus. Whole
# config.json files and seccomp policies (sbx's default is 10 KB) need
# longer inputs than the rest.
fuzz-smoke: $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do \
		name=$${f##*/}; corpus=tests/fuzz/corpus/$${name#fuzz-}; \
		case $$name in fuzz-config|fuzz-seccomp) max=65536 ;; *) max=4096 ;; esac; \
		mkdir -p build/fuzz/work/$$name; \
		echo "fuzz: $$name for $(FUZZ_TIME)s"; \
		$$f -max_total_time=$(FUZZ_TIME) -max_len=$$max -print_final_stats=0 \
			build/fuzz/work/$$name $$corpus >build/fuzz/$$name.log 2>&1 || \
			{ tail -50 build/fuzz/$$name.log; exit 1; }; \
	done

# The benchmark's limit program: sbx's kernel work and nothing else (libc only).
build/limit: tests/bench/limit.c Makefile
	$(CC) -std=gnu11 $(WARN) -O2 -static -o $@ $<

bench: build/sbx build/sbx-unpack build/sbx-init build/limit
	tests/bench/run

# The installed sbx finds its helpers and profiles from where it is
# (../libexec/sbx, ../share/sbx), so one build installs to any PREFIX, e.g.
# `make install PREFIX=~/.local`, and the tree can be moved whole; the paths
# compiled in (from PREFIX at build time) are only the fallback.
BASH_COMPLETION := $(DATADIR)/bash-completion/completions
ZSH_COMPLETION  := $(DATADIR)/zsh/site-functions
FISH_COMPLETION := $(DATADIR)/fish/vendor_completions.d
MAN_SECTIONS    := $(sort $(foreach m,$(MANS),$(lastword $(subst ., ,$(m)))))

install: all
	install -Dm755 build/sbx $(DESTDIR)$(BINDIR)/sbx
	ln -sf sbx $(DESTDIR)$(BINDIR)/sbx-oci
	install -Dm755 build/sbx-unpack $(DESTDIR)$(LIBEXECDIR)/sbx/sbx-unpack
	install -Dm755 build/sbx-init $(DESTDIR)$(LIBEXECDIR)/sbx/sbx-init
	install -d $(DESTDIR)$(DATADIR)/sbx/profiles
	install -m644 profiles/*.ini $(DESTDIR)$(DATADIR)/sbx/profiles/
	for m in $(MANS); do n=$${m##*/}; s=$${n##*.}; \
		install -Dm644 $$m $(DESTDIR)$(MANDIR)/man$$s/$$n; done
	install -Dm644 completions/sbx.bash $(DESTDIR)$(BASH_COMPLETION)/sbx
	install -Dm644 completions/_sbx $(DESTDIR)$(ZSH_COMPLETION)/_sbx
	install -Dm644 completions/sbx.fish $(DESTDIR)$(FISH_COMPLETION)/sbx.fish
	# bash and fish load a command's completion from a file of its name;
	# zsh reads _sbx's #compdef line.
	ln -sf sbx $(DESTDIR)$(BASH_COMPLETION)/sbx-oci
	ln -sf sbx.fish $(DESTDIR)$(FISH_COMPLETION)/sbx-oci.fish

# Removes what install put there. The directories of sbx's own go whole;
# the shared ones (man sections, completion directories) only when that
# leaves them empty; BINDIR, LIBEXECDIR, DATADIR and MANDIR stay.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sbx $(DESTDIR)$(BINDIR)/sbx-oci
	rm -rf $(DESTDIR)$(LIBEXECDIR)/sbx
	rm -rf $(DESTDIR)$(DATADIR)/sbx
	for m in $(MANS); do n=$${m##*/}; s=$${n##*.}; \
		rm -f $(DESTDIR)$(MANDIR)/man$$s/$$n; done
	rm -f $(DESTDIR)$(BASH_COMPLETION)/sbx $(DESTDIR)$(ZSH_COMPLETION)/_sbx \
		$(DESTDIR)$(FISH_COMPLETION)/sbx.fish $(DESTDIR)$(BASH_COMPLETION)/sbx-oci \
		$(DESTDIR)$(FISH_COMPLETION)/sbx-oci.fish
	for d in $(MAN_SECTIONS:%=$(MANDIR)/man%) $(BASH_COMPLETION) $(dir $(BASH_COMPLETION)) \
		$(ZSH_COMPLETION) $(dir $(ZSH_COMPLETION)) $(FISH_COMPLETION) $(dir $(FISH_COMPLETION)); do \
		if [ -d "$(DESTDIR)$$d" ]; then rmdir --ignore-fail-on-non-empty "$(DESTDIR)$$d"; fi; done

FORMAT_FILES = $(wildcard sandbox/*/*.c sandbox/*/*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c tests/bench/*.c \
	tests/helpers/*.c)
format:
	clang-format -i $(FORMAT_FILES)

check-format:
	clang-format --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf build

-include $(wildcard build/obj/*/*.d build/asan/*/*.d build/fuzz/*/*.d)
