# mk/bench.mk - peer benchmark: senti against ONNX Runtime on the same weights
# (bench/compare_ort.sh, bench/plot; how to run and read them: bench/README.md).
# The tools (torch, onnx, onnxruntime-node, gnuplot) come from `make bench-deps`,
# which `make deps` deliberately does not run: CI never downloads torch.
BENCH_ORT_THREADS ?= 2
BENCH_ORT_SEQ     ?= 8,16,32,64,128,256,512
BENCH_ORT_ROUNDS  ?= 5

.PHONY: bench-deps bench-ort bench-plot
bench-deps: ## install the peer-benchmark tools (torch, onnx, onnxruntime-node, gnuplot)
	scripts/install_bench_tools.sh

bench-ort: all ## senti vs ONNX Runtime, fp32 and int8, same weights/threads/lengths, then the plot
	SHARED=$(SHARED) SENTI_BIN=$(abspath $(BIN)) bench/compare_ort.sh \
	  --threads $(BENCH_ORT_THREADS) --seq $(BENCH_ORT_SEQ) --rounds $(BENCH_ORT_ROUNDS)
	bench/plot

bench-plot: ## redraw build/bench/latency.png from build/bench/compare.tsv
	bench/plot
