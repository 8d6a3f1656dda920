/* tests/engine/test_batch.c - eng_forward on a tiny random model: batching
 * does not change results, bad input is rejected with the right status and
 * message, states are reusable, kernel sets agree, allocation failures clean up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "engine/engine.h"
#include "tests/support/ref_forward.h"
#include "tests/support/testutil.h"

#define MAX_BATCH 8
#define MAX_SEQ 64

static const ref_tiny_shape tiny = {.dim = 32,
                                    .n_heads = 4,
                                    .hidden_dim = 64,
                                    .n_layers = 2,
                                    .vocab_size = 100,
                                    .max_positions = 64,
                                    .n_labels = 3,
                                    .std = 0.2f};

typedef struct fx {
    wt_model *w;
    eng_model *m;
    eng_state *s;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    senti_err err = {0};
    if (ref_tiny_model(7, &tiny, &f->w, &err) != SENTI_OK ||
        eng_model_create(f->w, &(eng_options){.threads = 1}, &f->m, &err) != SENTI_OK ||
        eng_state_create(f->m, MAX_BATCH, MAX_SEQ, &f->s, &err) != SENTI_OK) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    eng_state_keep_hidden(f->s, true); /* the tests compare hidden states too */
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    eng_state_free(f->s);
    eng_model_free(f->m);
    wt_model_free(f->w);
    free(f);
    return 0;
}

static void fill_ids(int32_t *ids, uint32_t len, uint32_t seed)
{
    ids[0] = 2; /* [CLS] */
    for (uint32_t t = 1; t < len; t++) ids[t] = (int32_t)(5 + (seed * 31 + t * 17) % 95);
    if (len > 1) ids[len - 1] = 3; /* [SEP] */
}

static float max_abs_diff(const float *a, const float *b, size_t n, size_t *where)
{
    float mx = 0.0f;
    for (size_t i = 0; i < n; i++) {
        float d = fabsf(a[i] - b[i]);
        if (!(d <= mx)) {
            mx = d;
            if (where) *where = i;
        }
    }
    return mx;
}

static void test_batch_equals_alone(void **state)
{
    fx *f = *state;
    static const uint32_t lens[] = {1, 17, 5, 64, 2, 33, 9, 64};
    enum { N = sizeof lens / sizeof lens[0] };
    int32_t ids[N][MAX_SEQ];
    const int32_t *ptr[N];
    for (uint32_t i = 0; i < N; i++) fill_ids(ids[i], lens[i], i), ptr[i] = ids[i];
    float batch[N * 3], alone[3];
    static float hidden[N][MAX_SEQ * 32];
    senti_err err = {0};
    assert_int_equal(eng_forward(f->m, f->s, N, ptr, lens, batch, &err), SENTI_OK);
    for (uint32_t i = 0; i < N; i++) {
        const float *h = eng_state_hidden(f->s, i);
        assert_non_null(h);
        memcpy(hidden[i], h, lens[i] * 32 * sizeof(float));
    }
    assert_null(eng_state_hidden(f->s, N));
    for (uint32_t i = 0; i < N; i++) {
        assert_int_equal(eng_forward(f->m, f->s, 1, &ptr[i], &lens[i], alone, &err), SENTI_OK);
        size_t at = 0;
        float dl = max_abs_diff(batch + i * 3, alone, 3, &at);
        float dh = max_abs_diff(hidden[i], eng_state_hidden(f->s, 0), lens[i] * 32, &at);
        if (dl > 1e-5f || dh > 1e-5f)
            fail_msg("sequence %u (len %u): logits differ by %g, hidden by %g at %zu", i, lens[i],
                     (double)dl, (double)dh, at);
    }
}

static void test_matches_reference(void **state)
{
    fx *f = *state;
    static const uint32_t lens[] = {1, 2, 7, 64};
    senti_err err = {0};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        int32_t ids[MAX_SEQ];
        const int32_t *p = ids;
        fill_ids(ids, lens[i], (uint32_t)i + 3);
        float got[3], want[3];
        static float want_h[MAX_SEQ * 32];
        assert_int_equal(eng_forward(f->m, f->s, 1, &p, &lens[i], got, &err), SENTI_OK);
        assert_int_equal(ref_forward(f->w, ids, lens[i], want, want_h, &err), SENTI_OK);
        size_t at = 0;
        float dl = max_abs_diff(got, want, 3, &at);
        float dh = max_abs_diff(eng_state_hidden(f->s, 0), want_h, lens[i] * 32, &at);
        if (dl > 1e-4f || dh > 1e-4f)
            fail_msg("len %u: logits differ by %g, hidden by %g at %zu", lens[i], (double)dl,
                     (double)dh, at);
    }
}

static void test_state_reuse(void **state)
{
    fx *f = *state;
    uint32_t la = 20, lb[3] = {64, 3, 11};
    int32_t a[MAX_SEQ], b[3][MAX_SEQ];
    fill_ids(a, la, 1);
    const int32_t *pa = a, *pb[3] = {b[0], b[1], b[2]};
    for (int i = 0; i < 3; i++) fill_ids(b[i], lb[i], 10u + (uint32_t)i);
    float first[3], other[9], again[3];
    senti_err err = {0};
    assert_int_equal(eng_forward(f->m, f->s, 1, &pa, &la, first, &err), SENTI_OK);
    assert_int_equal(eng_forward(f->m, f->s, 3, pb, lb, other, &err), SENTI_OK);
    assert_int_equal(eng_forward(f->m, f->s, 1, &pa, &la, again, &err), SENTI_OK);
    assert_memory_equal(first, again, sizeof first);
}

static void expect_fail(fx *f, uint32_t n, const int32_t *const *ids, const uint32_t *lens,
                        senti_status want, const char *msg)
{
    float logits[MAX_BATCH * 3 + 3];
    senti_err err = {0};
    assert_int_equal(eng_forward(f->m, f->s, n, ids, lens, logits, &err), want);
    assert_int_equal(err.code, want);
    if (msg) assert_string_equal(err.msg, msg);
    assert_null(eng_state_hidden(f->s, 0));
}

static void test_bad_inputs(void **state)
{
    fx *f = *state;
    int32_t ids[MAX_BATCH + 1][MAX_SEQ + 1];
    const int32_t *p[MAX_BATCH + 1];
    uint32_t lens[MAX_BATCH + 1];
    for (int i = 0; i <= MAX_BATCH; i++)
        fill_ids(ids[i], 4, (uint32_t)i), p[i] = ids[i], lens[i] = 4;

    expect_fail(f, 0, p, lens, SENTI_E_INVALID,
                "engine: batch of 0 sequences; this state takes 1..8");
    expect_fail(f, MAX_BATCH + 1, p, lens, SENTI_E_LIMIT,
                "engine: batch of 9 sequences; this state takes 1..8");
    lens[1] = 0;
    expect_fail(f, 2, p, lens, SENTI_E_INVALID, "engine: sequence 1 is empty (length 0)");
    lens[1] = MAX_SEQ + 1;
    expect_fail(f, 2, p, lens, SENTI_E_LIMIT,
                "engine: sequence 1 has 65 tokens; the limit is 64 (truncate it)");
    lens[1] = 4;
    ids[1][2] = -1;
    expect_fail(f, 2, p, lens, SENTI_E_INVALID,
                "engine: sequence 1, token 2: id -1 out of range [0, 100)");
    ids[1][2] = 100;
    expect_fail(f, 2, p, lens, SENTI_E_INVALID,
                "engine: sequence 1, token 2: id 100 out of range [0, 100)");
    ids[1][2] = 99;
    p[1] = NULL;
    expect_fail(f, 2, p, lens, SENTI_E_INVALID, "engine: sequence 1: NULL ids");
    p[1] = ids[1];
    expect_fail(f, 2, NULL, lens, SENTI_E_INVALID, NULL);
    expect_fail(f, 2, p, NULL, SENTI_E_INVALID, NULL);
    float logits[6];
    senti_err err = {0};
    assert_int_equal(eng_forward(f->m, f->s, 2, p, lens, NULL, &err), SENTI_E_INVALID);
    assert_int_equal(eng_forward(NULL, f->s, 2, p, lens, logits, &err), SENTI_E_INVALID);
    assert_int_equal(eng_forward(f->m, NULL, 2, p, lens, logits, &err), SENTI_E_INVALID);
    /* still works afterwards */
    assert_int_equal(eng_forward(f->m, f->s, 2, p, lens, logits, &err), SENTI_OK);
    assert_non_null(eng_state_hidden(f->s, 1));
}

static void test_token_budget(void **state)
{
    fx *f = *state;
    eng_state *s = NULL;
    senti_err err = {0};
    assert_int_equal(eng_state_create_tokens(f->m, 4, 64, 100, &s, &err), SENTI_OK);
    assert_int_equal(eng_state_max_tokens(s), 100);
    int32_t a[64], b[64];
    fill_ids(a, 64, 1), fill_ids(b, 64, 2);
    const int32_t *p[2] = {a, b};
    uint32_t lens[2] = {64, 36};
    float logits[6], alone[3];
    assert_int_equal(eng_forward(f->m, s, 2, p, lens, logits, &err), SENTI_OK);
    assert_int_equal(eng_forward(f->m, f->s, 1, &p[1], &lens[1], alone, &err), SENTI_OK);
    assert_true(max_abs_diff(logits + 3, alone, 3, NULL) <= 1e-5f);
    lens[1] = 37;
    assert_int_equal(eng_forward(f->m, s, 2, p, lens, logits, &err), SENTI_E_LIMIT);
    assert_string_equal(err.msg,
                        "engine: batch carries 101 tokens; this state holds 100 (split the batch)");
    eng_state_free(s);

    assert_int_equal(eng_state_create_tokens(f->m, 4, 64, 63, &s, &err), SENTI_E_LIMIT);
    assert_int_equal(eng_state_create_tokens(f->m, 4, 64, 257, &s, &err), SENTI_E_LIMIT);
    assert_int_equal(eng_state_create(f->m, 0, 64, &s, &err), SENTI_E_LIMIT);
    assert_int_equal(eng_state_create(f->m, SENTI_MAX_BATCH + 1, 64, &s, &err), SENTI_E_LIMIT);
    assert_int_equal(eng_state_create(f->m, 1, 0, &s, &err), SENTI_E_LIMIT);
    assert_int_equal(eng_state_create(f->m, 1, 65, &s, &err), SENTI_E_LIMIT);
    assert_string_equal(err.msg, "engine: max_seq 65 out of range 1..64 (model positions 64)");
}

static void test_other_model_state(void **state)
{
    fx *f = *state;
    eng_model *m2 = NULL;
    senti_err err = {0};
    assert_int_equal(eng_model_create(f->w, NULL, &m2, &err), SENTI_OK);
    int32_t ids[4];
    fill_ids(ids, 4, 0);
    const int32_t *p = ids;
    uint32_t len = 4;
    float logits[3];
    assert_int_equal(eng_forward(m2, f->s, 1, &p, &len, logits, &err), SENTI_E_INVALID);
    assert_string_equal(err.msg, "engine: the state was created for a different model");
    eng_model_free(m2);
}

static void test_ref_and_auto_kernels_agree(void **state)
{
    fx *f = *state;
    eng_model *mr = NULL, *ma = NULL;
    eng_state *sr = NULL, *sa = NULL;
    senti_err err = {0};
    assert_int_equal(eng_model_create(f->w, &(eng_options){.isa = "ref", .threads = 1}, &mr, &err),
                     SENTI_OK);
    assert_string_equal(eng_model_isa(mr), "ref");
    assert_int_equal(eng_model_create(f->w, &(eng_options){.isa = "auto", .threads = 1}, &ma, &err),
                     SENTI_OK);
    assert_int_equal(eng_state_create(mr, 4, 64, &sr, &err), SENTI_OK);
    assert_int_equal(eng_state_create(ma, 4, 64, &sa, &err), SENTI_OK);
    eng_state_keep_hidden(sr, true);
    eng_state_keep_hidden(sa, true);
    static const uint32_t lens[4] = {3, 64, 1, 29};
    int32_t ids[4][64];
    const int32_t *p[4];
    for (int i = 0; i < 4; i++) fill_ids(ids[i], lens[i], 40u + (uint32_t)i), p[i] = ids[i];
    float lr[12], la[12];
    assert_int_equal(eng_forward(mr, sr, 4, p, lens, lr, &err), SENTI_OK);
    assert_int_equal(eng_forward(ma, sa, 4, p, lens, la, &err), SENTI_OK);
    float d = max_abs_diff(lr, la, 12, NULL);
    if (d > 1e-5f) fail_msg("ref vs %s: logits differ by %g", eng_model_isa(ma), (double)d);
    for (uint32_t i = 0; i < 4; i++) {
        d = max_abs_diff(eng_state_hidden(sr, i), eng_state_hidden(sa, i), lens[i] * 32, NULL);
        if (d > 1e-5f)
            fail_msg("ref vs %s: hidden %u differs by %g", eng_model_isa(ma), i, (double)d);
    }
    eng_state_free(sr), eng_state_free(sa);
    eng_model_free(mr), eng_model_free(ma);
}

static void test_model_options(void **state)
{
    fx *f = *state;
    eng_model *m = NULL;
    senti_err err = {0};
    assert_int_equal(eng_model_create(f->w, &(eng_options){.isa = "sse9"}, &m, &err),
                     SENTI_E_INVALID);
    assert_int_equal(eng_model_create(f->w, &(eng_options){.threads = -1}, &m, &err),
                     SENTI_E_INVALID);
    assert_null(m);
    assert_int_equal(eng_model_create(f->w, &(eng_options){.threads = 0}, &m, &err), SENTI_OK);
    assert_true(eng_model_threads(m) >= 1);
    const wt_config *c = eng_model_config(m);
    assert_int_equal(c->dim, 32);
    assert_int_equal(c->n_labels, 3);
    eng_model_free(m);
    eng_model_free(NULL);
    eng_state_free(NULL);
}

/* eng_model_release_packed on w (owned tensors, or a loaded file's views):
 * the engine's results do not change, and w refuses what needs the weights. */
static void check_release(wt_model *w)
{
    senti_err err = {0};
    eng_model *m = NULL, *again = NULL;
    eng_state *s = NULL;
    assert_int_equal(eng_model_create(w, &(eng_options){.threads = 2}, &m, &err), SENTI_OK);
    assert_int_equal(eng_state_create(m, 2, MAX_SEQ, &s, &err), SENTI_OK);
    int32_t a[40], b[9];
    fill_ids(a, 40, 1), fill_ids(b, 9, 2);
    const int32_t *rows[2] = {a, b};
    uint32_t lens[2] = {40, 9};
    float before[6], after[6];
    assert_int_equal(eng_forward(m, s, 2, rows, lens, before, &err), SENTI_OK);
    /* what the engine packs: int8 linears always, f32 ones with AVX-512 */
    size_t want = 0;
    for (uint32_t i = 0; i < wt_model_tensor_count(w); i++) {
        const wt_tensor *t = wt_model_tensor_at(w, i);
        bool linear = strstr(t->name, "_lin.weight") || strstr(t->name, ".lin1.weight") ||
                      strstr(t->name, ".lin2.weight") || strstr(t->name, "classifier.weight");
        if (linear && (t->dtype != WT_DTYPE_F32 || !strcmp(eng_model_isa(m), "avx512")))
            want += (size_t)t->nbytes;
    }
    size_t bytes = eng_model_release_packed(m, w);
    assert_int_equal(bytes, want);
    if (want > 0) {
        assert_int_equal(eng_model_release_packed(m, w), 0); /* twice: nothing more */
        assert_null(wt_model_tensor(w, "distilbert.transformer.layer.0.ffn.lin1.weight")->data);
        assert_non_null(wt_model_tensor(w, "distilbert.transformer.layer.0.ffn.lin1.bias")->data);
        assert_int_equal(eng_model_create(w, NULL, &again, &err), SENTI_E_INVALID);
        assert_null(again);
        assert_non_null(strstr(err.msg, "was released"));
        char *dir = tu_mkdtemp(), path[4096];
        snprintf(path, sizeof path, "%s/m.senti", dir);
        assert_int_equal(wt_model_save(w, path, NULL, &err), SENTI_E_INVALID);
        snprintf(path, sizeof path, "%s/hf", dir);
        assert_int_equal(wt_export_hf(w, path, &err), SENTI_E_INVALID);
        assert_non_null(strstr(err.msg, "was released"));
        tu_rmtree(dir);
        free(dir);
    }
    assert_int_equal(eng_forward(m, s, 2, rows, lens, after, &err), SENTI_OK);
    assert_memory_equal(before, after, sizeof before);
    assert_int_equal(wt_model_release_data(w, "no.such.tensor", &err), SENTI_E_MISSING);
    eng_state_free(s);
    eng_model_free(m);
}

static void test_release_packed(void **state)
{
    (void)state;
    senti_err err = {0};
    wt_model *w = NULL, *loaded = NULL;
    assert_int_equal(ref_tiny_model(11, &tiny, &w, &err), SENTI_OK);
    char *dir = tu_mkdtemp(), path[4096];
    snprintf(path, sizeof path, "%s/tiny.senti", dir);
    assert_int_equal(wt_model_save(w, path, NULL, &err), SENTI_OK);
    assert_int_equal(wt_model_load(path, &loaded, &err), SENTI_OK);
    wt_model *q8 = NULL;
    assert_int_equal(wt_model_quantize_int8(w, NULL, &q8, &err), SENTI_OK);
    check_release(w);      /* tensors allocated one by one */
    check_release(loaded); /* views into the file's one block */
    check_release(q8);     /* int8 linears */
    wt_model_free(q8);
    wt_model_free(w);
    wt_model_free(loaded);
    tu_rmtree(dir);
    free(dir);
}

/* A copy of the tiny model with one tensor stored as f16: rejected, by name. */
static void test_rejects_non_f32(void **state)
{
    fx *f = *state;
    senti_err err = {0};
    wt_model *w2 = NULL;
    assert_int_equal(wt_model_create(wt_model_config(f->w), &w2, &err), SENTI_OK);
    for (uint32_t i = 0; i < wt_model_tensor_count(f->w); i++) {
        const wt_tensor *t = wt_model_tensor_at(f->w, i);
        if (!strcmp(t->name, "classifier.bias")) {
            uint16_t h[3] = {0x3c00, 0x3c00, 0x3c00}; /* 1.0 in f16 */
            assert_int_equal(wt_model_add_tensor(w2, t->name, WT_DTYPE_F16, t->ndim, t->shape, h,
                                                 sizeof h, &err),
                             SENTI_OK);
        } else {
            assert_int_equal(wt_model_add_tensor(w2, t->name, t->dtype, t->ndim, t->shape, t->data,
                                                 t->nbytes, &err),
                             SENTI_OK);
        }
    }
    const char *vocab[100];
    for (uint32_t i = 0; i < 100; i++) vocab[i] = wt_model_vocab_token(f->w, i);
    assert_int_equal(wt_model_set_vocab(w2, vocab, 100, &err), SENTI_OK);
    eng_model *m = NULL;
    /* wt_model_validate or the engine's own check refuses it; either names the tensor. */
    assert_int_not_equal(eng_model_create(w2, NULL, &m, &err), SENTI_OK);
    if (!strstr(err.msg, "'classifier.bias'") || !strstr(err.msg, "f16"))
        fail_msg("got: %s", err.msg);
    assert_null(m);
    wt_model_free(w2);
}

static void test_alloc_failures(void **state)
{
    fx *f = *state;
    int32_t ids[5];
    fill_ids(ids, 5, 3);
    const int32_t *p = ids;
    uint32_t len = 5;
    for (long k = 0; k < 20; k++) {
        eng_model *m = NULL;
        eng_state *s = NULL;
        senti_err err = {0};
        senti_alloc_fail_after(k);
        senti_status st = eng_model_create(f->w, NULL, &m, &err);
        if (st == SENTI_OK) st = eng_state_create(m, 2, 16, &s, &err);
        senti_alloc_fail_after(-1);
        if (st != SENTI_OK) {
            assert_int_equal(st, SENTI_E_NOMEM);
            assert_null(s);
        } else {
            float logits[3];
            assert_int_equal(eng_forward(m, s, 1, &p, &len, logits, &err), SENTI_OK);
        }
        eng_state_free(s);
        eng_model_free(m);
        if (st == SENTI_OK) break;
    }
}

/* The default forward computes the last layer for the [CLS] rows only; the
 * logits must be those of the full last layer. dim 32 cannot cut q|k|v at a
 * panel boundary (the full q|k|v product, then one query per sequence); dim 192
 * can (keys and values for every token, the [CLS] queries on their own). Bit
 * for bit where every row's arithmetic is independent of the row count (the
 * AVX-512 packed fp32 kernel, int8); within 1e-5 where OpenBLAS computes fp32
 * products (its kernels differ between one row and many). */
static void check_cls_only(const wt_model *w, const char *isa, int threads, const char *what)
{
    senti_err err = {0};
    eng_model *m = NULL;
    eng_state *full = NULL, *cls = NULL;
    senti_status st = eng_model_create(w, &(eng_options){.isa = isa, .threads = threads}, &m, &err);
    if (st == SENTI_E_UNSUPPORTED) return; /* this CPU lacks the set */
    assert_int_equal(st, SENTI_OK);
    assert_int_equal(eng_state_create(m, MAX_BATCH, MAX_SEQ, &full, &err), SENTI_OK);
    assert_int_equal(eng_state_create(m, MAX_BATCH, MAX_SEQ, &cls, &err), SENTI_OK);
    eng_state_keep_hidden(full, true);
    static const uint32_t lens[] = {1, 17, 5, 64, 2, 33, 12, 64};
    enum { N = sizeof lens / sizeof lens[0] };
    int32_t ids[N][MAX_SEQ];
    const int32_t *ptr[N];
    for (uint32_t i = 0; i < N; i++) fill_ids(ids[i], lens[i], 70u + i), ptr[i] = ids[i];
    const uint32_t L = wt_model_config(w)->n_labels, D = wt_model_config(w)->dim;
    float want[N * 3], got[N * 3], one[3];
    bool exact = !strcmp(eng_model_isa(m), "avx512") ||
                 wt_model_tensor(w, "distilbert.transformer.layer.0.ffn.lin1.weight")->dtype ==
                     WT_DTYPE_I8_ROWSCALE;
    for (uint32_t n = 1; n <= N; n += N - 1) { /* one sequence, then all of them */
        assert_int_equal(eng_forward(m, full, n, ptr, lens, want, &err), SENTI_OK);
        assert_int_equal(eng_forward(m, cls, n, ptr, lens, got, &err), SENTI_OK);
        assert_non_null(eng_state_hidden(full, n - 1));
        assert_null(eng_state_hidden(cls, 0)); /* not kept */
        size_t at = 0;
        float d = max_abs_diff(want, got, n * L, &at);
        if (exact ? memcmp(want, got, n * L * sizeof *got) != 0 : !(d <= 1e-5f))
            fail_msg("%s, dim %u, %s, %d threads, batch %u: [CLS]-only logits differ from the "
                     "full last layer's by %g at %zu (%s)",
                     what, D, eng_model_isa(m), threads, n, (double)d, at,
                     exact ? "must be bit-identical" : "limit 1e-5");
    }
    /* a sequence alone gives its row of the batch (the [CLS]-only path too); bit
     * for bit with AVX-512 only: elsewhere the fp32 classifier head is OpenBLAS,
     * whose one-row product (sgemv) rounds differently from its batch one */
    for (uint32_t i = 0; i < N; i++) {
        assert_int_equal(eng_forward(m, cls, 1, &ptr[i], &lens[i], one, &err), SENTI_OK);
        if (!strcmp(eng_model_isa(m), "avx512"))
            assert_memory_equal(one, got + i * L, L * sizeof *one);
        else assert_true(max_abs_diff(one, got + i * L, L, NULL) <= 1e-5f);
    }
    /* switching back keeps every token's hidden state again */
    eng_state_keep_hidden(cls, true);
    assert_int_equal(eng_forward(m, cls, N, ptr, lens, got, &err), SENTI_OK);
    assert_memory_equal(want, got, N * L * sizeof *got);
    assert_non_null(eng_state_hidden(cls, N - 1));
    eng_state_keep_hidden(NULL, true); /* no-op */
    eng_state_free(full);
    eng_state_free(cls);
    eng_model_free(m);
}

static void test_cls_only_last_layer(void **state)
{
    (void)state;
    static const ref_tiny_shape wide = {.dim = 192,
                                        .n_heads = 4,
                                        .hidden_dim = 384,
                                        .n_layers = 2,
                                        .vocab_size = 100,
                                        .max_positions = 64,
                                        .n_labels = 3,
                                        .std = 0.1f};
    const ref_tiny_shape *shapes[2] = {&tiny, &wide};
    static const char *const isas[] = {"ref", "avx2", "avx512"};
    senti_err err = {0};
    for (int si = 0; si < 2; si++) {
        wt_model *w = NULL, *q8 = NULL;
        assert_int_equal(ref_tiny_model(21, shapes[si], &w, &err), SENTI_OK);
        assert_int_equal(wt_model_quantize_int8(w, NULL, &q8, &err), SENTI_OK);
        for (int k = 0; k < 3; k++)
            for (int threads = 1; threads <= 2; threads++) {
                check_cls_only(w, isas[k], threads, "f32");
                check_cls_only(q8, isas[k], threads, "int8");
            }
        wt_model_free(q8);
        wt_model_free(w);
    }
}

static void test_softmax_logits(void **state)
{
    (void)state;
    float l[3] = {1000.0f, 1000.0f, -1000.0f}, p[3];
    eng_softmax_logits(l, 3, p);
    assert_float_equal(p[0], 0.5f, 1e-6f);
    assert_float_equal(p[1], 0.5f, 1e-6f);
    assert_float_equal(p[2], 0.0f, 1e-6f);
    float l2[2] = {0.0f, logf(3.0f)};
    eng_softmax_logits(l2, 2, p);
    assert_float_equal(p[1], 0.75f, 1e-6f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_equals_alone),
        cmocka_unit_test(test_matches_reference),
        cmocka_unit_test(test_state_reuse),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_token_budget),
        cmocka_unit_test(test_other_model_state),
        cmocka_unit_test(test_ref_and_auto_kernels_agree),
        cmocka_unit_test(test_model_options),
        cmocka_unit_test(test_rejects_non_f32),
        cmocka_unit_test(test_release_packed),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_cls_only_last_layer),
        cmocka_unit_test(test_softmax_logits),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
