# mk/http.mk - HTTP benchmark (wrk against a local senti serve).
.PHONY: bench-http
bench-http: all ## wrk at concurrency 1/8/64, short and long texts, batching on and off
	SHARED=$(SHARED) SENTI_BIN=$(abspath $(BIN)) bench/http.sh
