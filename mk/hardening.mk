# mk/hardening.mk - fuzzing, soak, thread-sanitizer and valgrind runs of the
# service (included by the top Makefile). Each target is bounded in time.
#   make fuzz          every libFuzzer target for FUZZ_SECONDS (60) + tokenizer differential (DIFF_N)
#   make fuzz-short    every target for ~20 s (CI)
#   make soak          wrk + checker against senti serve for SOAK_SECONDS (600)
#   make tsan-net      thread-sanitizer build of senti, tests/net/test_serve.sh against it
#   make valgrind-serve  valgrind memcheck over a short server session

FUZZ_O       ?= build/fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := tokenizer api cfg safetensors senti
FUZZ_CC      ?= clang
FUZZ_FLAGS   := -std=c11 -I. -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_LIBS    := $(foreach s,$(SUBSYS),$(FUZZ_O)/lib/libsenti_$(s).a)
FUZZ_BINS    := $(foreach t,$(FUZZ_TARGETS),$(FUZZ_O)/fuzz/fuzz_$(t))
DIFF_N       ?= 100000

.PHONY: fuzz fuzz-short fuzz-build soak soak-short tsan-net valgrind-serve

# The archives are built by a recursive make with FLAVOUR=fuzz (coverage
# instrumentation, fuzzer-no-link, plus ASan+UBSan) and clang; the targets link them.
$(FUZZ_O)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h $(FUZZ_LIBS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_LIBS) $(LDLIBS)

.PHONY: fuzz-build-inner
fuzz-build-inner: $(FUZZ_BINS)

fuzz-build: ## build the libFuzzer targets (clang, ASan+UBSan) into build/fuzz
	@$(MAKE) --no-print-directory FLAVOUR=fuzz O=$(FUZZ_O) CC=$(FUZZ_CC) fuzz-build-inner

# run_fuzz SECONDS: each target over a scratch copy of its corpus (the seeds in
# the tree stay small); a crash lands in tests/fuzz/regress/<target>/.
define run_fuzz
	@set -e; for t in $(FUZZ_TARGETS); do \
	  work=$(FUZZ_O)/corpus/$$t; mkdir -p $$work tests/fuzz/regress/$$t; \
	  echo "== fuzz $$t ($(1) s)"; \
	  SHARED=$(SHARED) $(FUZZ_O)/fuzz/fuzz_$$t -max_total_time=$(1) -max_len=4096 -timeout=10 \
	    -rss_limit_mb=2048 -dict=tests/fuzz/fuzz.dict -print_final_stats=1 \
	    -artifact_prefix=tests/fuzz/regress/$$t/ $$work tests/fuzz/corpus/$$t \
	    >$(FUZZ_O)/fuzz_$$t.log 2>&1 || { tail -40 $(FUZZ_O)/fuzz_$$t.log; exit 1; }; \
	  grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb|^stat::new_units_added' $(FUZZ_O)/fuzz_$$t.log | tr '\n' ' '; echo; \
	done
endef

fuzz: fuzz-build ## libFuzzer over every parser for FUZZ_SECONDS each, then the tokenizer differential (DIFF_N inputs)
	$(call run_fuzz,$(FUZZ_SECONDS))
	@$(MAKE) --no-print-directory bin
	DIFF_N=$(DIFF_N) SHARED=$(SHARED) SENTI_BIN=$(abspath $(BIN)) tests/tokenizer/test_differential.sh

fuzz-short: fuzz-build ## every libFuzzer target for ~20 s (CI)
	$(call run_fuzz,20)

SOAK_SECONDS ?= 600
soak: $(BIN) ## wrk load for SOAK_SECONDS (600) with a checker: no 5xx, RSS growth < 2%, no fd leak
	SHARED=$(SHARED) SENTI_BIN=$(abspath $(BIN)) SOAK_SECONDS=$(SOAK_SECONDS) tests/net/soak.sh

soak-short: $(BIN) ## the soak for 60 s
	SHARED=$(SHARED) SENTI_BIN=$(abspath $(BIN)) SOAK_SECONDS=60 tests/net/soak.sh

TSAN_O ?= build/tsan-net
tsan-net: ## thread-sanitizer build of senti, then tests/net/test_serve.sh against it
	$(MAKE) --no-print-directory FLAVOUR=tsan O=$(TSAN_O) $(TSAN_O)/bin/senti
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(abspath tests/net/tsan.supp)" \
	  SHARED=$(SHARED) SENTI_BIN=$(abspath $(TSAN_O)/bin/senti) DRAIN_RUNS=1 SENTI_TEST_SLOW=1 \
	  bash tests/net/test_serve.sh

VG_O ?= build/valgrind-serve
valgrind-serve: ## valgrind memcheck over a short senti serve session (a few requests, SIGTERM), --error-exitcode=1
	$(MAKE) --no-print-directory FLAVOUR=debug O=$(VG_O) $(VG_O)/bin/senti
	SHARED=$(SHARED) SENTI_BIN=$(abspath $(VG_O)/bin/senti) tests/net/valgrind_serve.sh
