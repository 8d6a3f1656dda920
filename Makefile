# senti - top-level build. Plain GNU make, one build directory per flavour.
#   make            build bin/senti (release flavour)
#   make test       build and run the whole test suite
#   make help       list every target
#
# Each source folder is a subsystem with its own archive; a test in tests/<dir>/
# links the archives of <dir> and what <dir> depends on (TEST_LIBS_<dir>).

FLAVOUR  ?= release
O        ?= build/$(FLAVOUR)
SHARED   ?= $(abspath ../shared)
CC       ?= cc
WERROR   ?= -Werror
# Full-size synthetic DistilBERT-base checkpoint used by the benchmarks.
BENCH_MODEL ?= build/bench/synthetic-base-seed1.senti

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla \
        -Wdouble-promotion -Wno-unused-parameter
OPT_release := -O2 -g
OPT_debug   := -O0 -g
OPT_asan    := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
OPT_tsan    := -O1 -g -fsanitize=thread
OPT_fuzz    := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined,fuzzer-no-link
LDOPT_asan  := -fsanitize=address,undefined
LDOPT_tsan  := -fsanitize=thread
LDOPT_fuzz  := -fsanitize=address,undefined

CPPFLAGS += -I. -D_GNU_SOURCE -DSENTI_VERSION='"$(VERSION)"' -DSENTI_COMMIT='"$(COMMIT)"'
CFLAGS   += -std=c11 $(WARN) $(WERROR) $(OPT_$(FLAVOUR)) -MMD -MP -pthread
LDFLAGS  += $(LDOPT_$(FLAVOUR)) -pthread
# External libraries (Debian packages listed in scripts/deps.sh).
LDLIBS   += -lopenblas -lzstd -ljansson -lyaml -levent -levent_pthreads -lutf8proc -lxxhash \
            -lcrypto -lm

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
COMMIT  := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

# Per-file instruction sets: kernels for one ISA live in files named *_avx2.c / *_avx512.c.
ISA_avx2   := -mavx2 -mfma -mf16c
ISA_avx512 := -mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512dq -mavx512vl -mavx512vnni \
              -mavx512bf16
isa_flags = $(if $(filter %_avx512.c,$1),$(ISA_avx512),$(if $(filter %_avx2.c,$1),$(ISA_avx2)))

# Subsystems in link order (a folder may use those after it).
SUBSYS := net cfg engine tokenizer weights common
src_of  = $(wildcard $1/*.c)
obj_of  = $(patsubst %.c,$(O)/%.o,$(call src_of,$1))
lib_of  = $(O)/lib/libsenti_$1.a

TEST_LIBS_common    := common
TEST_LIBS_weights   := weights common
TEST_LIBS_tokenizer := tokenizer weights common
TEST_LIBS_engine    := engine tokenizer weights common
TEST_LIBS_cfg       := cfg common
TEST_LIBS_net       := net cfg engine tokenizer weights common
TEST_LIBS_bench     := net cfg engine tokenizer weights common
TEST_LIBS_cli       := net cfg engine tokenizer weights common

CLI_SRC  := $(wildcard cli/*.c) $(wildcard bench/*.c)
CLI_OBJ  := $(patsubst %.c,$(O)/%.o,$(CLI_SRC))
# The default build is bin/senti; any other build dir (flavour or O=...) keeps its own binary.
BIN      := $(if $(filter build/release,$(O)),bin/senti,$(O)/bin/senti)

TEST_DIRS    := $(sort $(notdir $(wildcard tests/*)))
TEST_SUPPORT := $(wildcard tests/support/*.c)
TEST_SUPPORT_OBJ := $(patsubst %.c,$(O)/%.o,$(TEST_SUPPORT))
TEST_SUPPORT_LIB := $(O)/lib/libsenti_testsupport.a
TEST_SRC     := $(foreach d,$(TEST_DIRS),$(wildcard tests/$(d)/test_*.c))
TEST_BIN     := $(patsubst tests/%.c,$(O)/tests/%,$(TEST_SRC))
# Shell tests (tests/<dir>/test_*.sh) run after the compiled ones; they use $$SENTI_BIN.
TEST_SH      := $(foreach d,$(TEST_DIRS),$(wildcard tests/$(d)/test_*.sh))

.PHONY: deploy-check all bin test asan tsan valgrind bench perf callgrind fmt lint clean deps help model run demo
.DEFAULT_GOAL := all

all: $(BIN) ## build bin/senti (release)
bin: $(BIN) ## build this build dir's senti binary (bin/senti, or $(O)/bin/senti)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(call isa_flags,$<) -c $< -o $@

define subsys_lib
$(call lib_of,$1): $(call obj_of,$1)
	@mkdir -p $$(dir $$@)
	@rm -f $$@
	$$(AR) rcs $$@ $$^
endef
$(foreach s,$(SUBSYS),$(eval $(call subsys_lib,$(s))))

$(TEST_SUPPORT_LIB): $(TEST_SUPPORT_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@
	$(AR) rcs $@ $^

ALL_LIBS := $(foreach s,$(SUBSYS),$(call lib_of,$(s)))

$(BIN): $(CLI_OBJ) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(ALL_LIBS) $(LDLIBS)

# tests/<dir>/test_x.c -> $(O)/tests/<dir>/test_x, linked with its folder's archives.
define test_rule
$(O)/tests/$1/%: $(O)/tests/$1/%.o $(TEST_SUPPORT_LIB) $(foreach l,$(TEST_LIBS_$1),$(call lib_of,$l))
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$< $(TEST_SUPPORT_LIB) $(foreach l,$(TEST_LIBS_$1),$(call lib_of,$l)) $$(LDLIBS) -lcmocka
.PHONY: test-$1
test-$1: $(filter $(O)/tests/$1/%,$(TEST_BIN)) ## run one folder's tests, e.g. make test-weights
	@O=$(O) SHARED=$(SHARED) SENTI_BIN=$(abspath $(BIN)) RUNNER="$(RUNNER)" tests/run.sh $(filter $(O)/tests/$1/%,$(TEST_BIN)) $(filter tests/$1/%,$(TEST_SH))
endef
$(foreach d,$(filter-out support data,$(TEST_DIRS)),$(eval $(call test_rule,$(d))))
.SECONDARY:

test: $(BIN) $(TEST_BIN) ## build and run the whole test suite (the CI gate)
	@O=$(O) SHARED=$(SHARED) SENTI_BIN=$(abspath $(BIN)) RUNNER="$(RUNNER)" tests/run.sh $(TEST_BIN) $(TEST_SH)

deploy-check: $(BIN) ## deploy checks only: Helm chart, manifests, Dockerfile, workflows (tests/deploy)
	@O=$(O) SHARED=$(SHARED) SENTI_BIN=$(abspath $(BIN)) tests/run.sh $(wildcard tests/deploy/test_*.sh)

asan: ## whole suite under AddressSanitizer + UndefinedBehaviorSanitizer
	$(MAKE) FLAVOUR=asan test

tsan: ## thread-sanitizer build of the suite
	$(MAKE) FLAVOUR=tsan test

valgrind: ## whole suite under valgrind memcheck (quick sizes), --error-exitcode=1
	$(MAKE) FLAVOUR=debug SENTI_TEST_QUICK=1 \
	  RUNNER="valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite --track-origins=yes" test

bench: all $(BENCH_MODEL) ## print latency, throughput, load time, RSS and tokenizer figures
	SHARED=$(SHARED) SENTI_BIN=$(BIN) bench/run.sh $(BENCH_MODEL)

$(BENCH_MODEL): | $(BIN)
	@mkdir -p $(dir $@)
	$(BIN) convert --synthetic base --seed 1 \
	  --vocab $(SHARED)/models/distilbert-base-uncased-finetuned-sst-2-english/vocab.txt --out $@

perf: all $(BENCH_MODEL) ## perf stat (cycles, instructions, cache misses) over a T=128 benchmark
	perf stat -e task-clock,cycles,instructions,cache-references,cache-misses,branch-misses \
	  $(BIN) bench --model $(BENCH_MODEL) --threads 1 --seq 128 --seconds 3 --no-check

callgrind: all ## instruction counts of one sst2-mini forward (stable under machine noise)
	valgrind --tool=callgrind --callgrind-out-file=build/callgrind.out \
	  $(BIN) bench --model $(SHARED)/models/sst2-mini --threads 1 --seq 64 --seconds 0.01 --no-check
	callgrind_annotate build/callgrind.out | head -40

model: all ## produce the default served model (models/default.senti)
	SHARED=$(SHARED) weights/fetch_model.sh models/default.senti

run: model ## serve the default model on 127.0.0.1:8080 (dev profile)
	$(BIN) serve --model models/default.senti

demo: model ## the model answers a few sentences from the command line
	$(BIN) predict --model models/default.senti "a gorgeous, witty, seductive movie." \
	  "the plot is nothing but boilerplate clichés from start to finish."

deps: ## install every Debian package the build and tests need (idempotent)
	scripts/deps.sh

FMT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
fmt: ## apply .clang-format to every C file
	clang-format -i $(FMT_FILES)

lint: ## clang-format check, cppcheck and clang-tidy
	clang-format --dry-run --Werror $(FMT_FILES)
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
	  --suppress=missingIncludeSystem -I. $(filter %.c,$(FMT_FILES))

clean: ## remove build outputs
	rm -rf build bin

help: ## list targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(filter-out %.d,$(MAKEFILE_LIST)) | sed -E 's/^([^:]+):.*## (.*)/  \1\t\2/' | expand -t 18

# Feature makefiles (fuzzing, soak, peer comparisons): each adds its own targets.
include $(sort $(wildcard mk/*.mk))

-include $(shell find $(O) -name '*.d' 2>/dev/null)
