/* tests/weights/test_file.c - the .senti file: round trips, the committed broken
 * files under tests/weights/data/ (exact status and message each), and
 * allocation-failure injection.
 *
 * SENTI_REGEN_BROKEN=<dir> regenerates the broken files into <dir> before the
 * tests run (tests/weights/data/make_broken.sh does this); commit the result. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

#include "tests/support/testutil.h"
#include "tests/weights/tiny_model.h"

#define DATA "tests/weights/data/"

static void assert_models_equal(const wt_model *a, const wt_model *b)
{
    assert_memory_equal(wt_model_config(a), wt_model_config(b), sizeof(wt_config));
    assert_int_equal(wt_model_vocab_size(a), wt_model_vocab_size(b));
    for (uint32_t i = 0; i < wt_model_vocab_size(a); i++)
        assert_string_equal(wt_model_vocab_token(a, i), wt_model_vocab_token(b, i));
    assert_int_equal(wt_model_meta_count(a), wt_model_meta_count(b));
    for (uint32_t i = 0; i < wt_model_meta_count(a); i++) {
        const char *k, *v;
        wt_model_meta_at(a, i, &k, &v);
        assert_non_null(wt_model_meta(b, k));
        assert_string_equal(wt_model_meta(b, k), v);
    }
    assert_int_equal(wt_model_tensor_count(a), wt_model_tensor_count(b));
    for (uint32_t i = 0; i < wt_model_tensor_count(a); i++) {
        const wt_tensor *x = wt_model_tensor_at(a, i), *y = wt_model_tensor(b, x->name);
        assert_non_null(y);
        assert_int_equal(x->dtype, y->dtype);
        assert_int_equal(x->ndim, y->ndim);
        assert_memory_equal(x->shape, y->shape, sizeof x->shape);
        assert_int_equal(x->nbytes, y->nbytes);
        assert_int_equal((uintptr_t)y->data % 64, 0);
        assert_memory_equal(x->data, y->data, x->nbytes);
    }
}

static void save_load_check(const wt_model *m, int level)
{
    char *dir = tu_mkdtemp();
    char path[4200];
    snprintf(path, sizeof path, "%s/m.senti", dir);
    senti_err err = {0};
    wt_save_opts opts = {.zstd_level = level};
    if (wt_model_save(m, path, &opts, &err) != SENTI_OK) fail_msg("save: %s", err.msg);
    wt_model *back = NULL;
    if (wt_model_load(path, &back, &err) != SENTI_OK) fail_msg("load: %s", err.msg);
    assert_models_equal(m, back);
    size_t len;
    char *bytes = tu_read_file(path, &len);
    char hex[17];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)XXH64(bytes, len, 0));
    assert_string_equal(wt_model_file_checksum(back), hex);
    free(bytes);
    wt_model_free(back);
    tu_rmtree(dir);
    free(dir);
}

static void progress_cb(uint64_t done, uint64_t total, void *user)
{
    uint64_t *last = user;
    assert_true(done > *last && done <= total);
    *last = done;
}

static void test_round_trip_tiny(void **state)
{
    (void)state;
    wt_model *m = tiny_model(NULL, NULL);
    senti_err err = {0};
    assert_int_equal(wt_model_set_meta(m, "converter", "test \xc3\xa9", &err), SENTI_OK);
    save_load_check(m, 0);
    save_load_check(m, 19);

    /* progress reaches the total; temp file is gone after the rename */
    char *dir = tu_mkdtemp();
    char path[4200];
    snprintf(path, sizeof path, "%s/m.senti", dir);
    uint64_t last = 0;
    wt_save_opts opts = {.progress = progress_cb, .user = &last};
    assert_int_equal(wt_model_save(m, path, &opts, &err), SENTI_OK);
    uint64_t total = 0;
    for (uint32_t i = 0; i < wt_model_tensor_count(m); i++) total += wt_model_tensor_at(m, i)->nbytes;
    assert_int_equal(last, total);
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "ls '%s' | wc -l", dir);
    char *count = tu_run(cmd, NULL);
    assert_int_equal(atoi(count), 1);
    free(count);
    /* saving refuses a model the reader would reject */
    wt_model *bad = tiny_model("classifier.weight", NULL);
    assert_int_equal(wt_model_save(bad, path, NULL, &err), SENTI_E_MISSING);
    wt_model_free(bad);
    tu_rmtree(dir);
    free(dir);
    wt_model_free(m);
}

static void test_round_trip_sst2_mini(void **state)
{
    (void)state;
    if (tu_quick()) skip(); /* 45 MB: too slow under valgrind */
    wt_model *m = NULL;
    senti_err err = {0};
    if (wt_import_hf(tu_shared_path("models/sst2-mini"), &m, &err) != SENTI_OK)
        fail_msg("import: %s", err.msg);
    save_load_check(m, 1);
    wt_model_free(m);
}

static void test_fault_injection(void **state)
{
    (void)state;
    senti_err err = {0};
    wt_model *m = NULL;
    long n;
    for (n = 0; n < 1000; n++) {
        senti_alloc_fail_after(n);
        senti_status st = wt_model_load(DATA "good.senti", &m, &err);
        senti_alloc_fail_after(-1);
        if (st == SENTI_OK) break;
        if (st != SENTI_E_NOMEM) fail_msg("n=%ld: %s: %s", n, senti_status_name(st), err.msg);
        assert_int_equal(err.code, SENTI_E_NOMEM);
    }
    assert_true(n > 5 && n < 1000);
    wt_model_free(m);

    char *dir = tu_mkdtemp();
    char path[4200];
    snprintf(path, sizeof path, "%s/m.senti", dir);
    wt_model *tiny = tiny_model(NULL, NULL);
    for (n = 0; n < 1000; n++) {
        senti_alloc_fail_after(n);
        senti_status st = wt_model_save(tiny, path, NULL, &err);
        senti_alloc_fail_after(-1);
        if (st == SENTI_OK) break;
        assert_int_equal(st, SENTI_E_NOMEM);
    }
    assert_true(n < 1000);

    /* HF import of the tiny model */
    assert_int_equal(wt_export_hf(tiny, dir, &err), SENTI_OK);
    wt_model_free(tiny);
    for (n = 0; n < 1000; n++) {
        wt_model *x = NULL;
        senti_alloc_fail_after(n);
        senti_status st = wt_import_hf(dir, &x, &err);
        senti_alloc_fail_after(-1);
        if (st == SENTI_OK) {
            wt_model_free(x);
            break;
        }
        assert_int_equal(st, SENTI_E_NOMEM);
    }
    assert_true(n < 1000);
    tu_rmtree(dir);
    free(dir);
}

/* --- broken files ---------------------------------------------------------- */
typedef struct broken {
    const char *file;
    senti_status code;
    const char *msg;
} broken;

#define CORRUPT "the file is corrupt; re-run 'senti convert'"
static const broken broken_files[] = {
    {"bad_magic.senti", SENTI_E_FORMAT,
     "weights: '" DATA "bad_magic.senti' is not a senti weight file (bad magic); convert a "
     "checkpoint with 'senti convert'"},
    {"newer_major.senti", SENTI_E_VERSION,
     "weights: '" DATA "newer_major.senti' is format version 2.0, but this build reads 1.x; "
     "upgrade senti"},
    {"unknown_required_flag.senti", SENTI_E_UNSUPPORTED,
     "weights: '" DATA "unknown_required_flag.senti': unknown required flags 0x20; the file "
     "needs a newer senti"},
    {"truncated.senti", SENTI_E_TRUNCATED,
     "weights: '" DATA "truncated.senti' is 4072 bytes but its header says 8145: the file is "
     "truncated (interrupted copy or download?)"},
    {"overlap.senti", SENTI_E_FORMAT,
     "weights: '" DATA "overlap.senti': tensors 'distilbert.embeddings.word_embeddings.weight' "
     "and 'distilbert.embeddings.position_embeddings.weight' overlap (bytes 3584+522 and "
     "3648+266); " CORRUPT},
    {"misaligned.senti", SENTI_E_FORMAT,
     "weights: '" DATA "misaligned.senti': tensor 'distilbert.embeddings.LayerNorm.weight' "
     "starts at byte 4488, not a multiple of 64; " CORRUPT},
    {"shape_size.senti", SENTI_E_SHAPE,
     "weights: '" DATA "shape_size.senti': tensor 'classifier.weight': raw size 68 but its f32 "
     "shape needs 64; " CORRUPT},
    {"tensor_checksum.senti", SENTI_E_CHECKSUM,
     "weights: '" DATA "tensor_checksum.senti': tensor 'classifier.bias': checksum mismatch; "
     CORRUPT},
    {"header_checksum.senti", SENTI_E_CHECKSUM,
     "weights: '" DATA "header_checksum.senti': header checksum mismatch; " CORRUPT},
    {"tables_checksum.senti", SENTI_E_CHECKSUM,
     "weights: '" DATA "tables_checksum.senti': tables checksum mismatch; " CORRUPT},
    {"corrupt_zstd.senti", SENTI_E_COMPRESSION,
     "weights: '" DATA "corrupt_zstd.senti': tensor 'distilbert.embeddings.word_embeddings."
     "weight': zstd: Unknown frame descriptor; " CORRUPT},
    {"missing_tensor.senti", SENTI_E_MISSING,
     "weights: tensor 'distilbert.transformer.layer.0.attention.q_lin.bias' is missing "
     "(required by DistilBertForSequenceClassification)"},
    {"duplicate_tensor.senti", SENTI_E_DUPLICATE,
     "weights: '" DATA "duplicate_tensor.senti': tensor 'distilbert.transformer.layer.0."
     "attention.q_lin.bias' appears twice; " CORRUPT},
};
#define N_BROKEN (sizeof broken_files / sizeof broken_files[0])

static void test_broken_files(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_BROKEN; i++) {
        const broken *b = &broken_files[i];
        char path[256];
        snprintf(path, sizeof path, DATA "%s", b->file);
        wt_model *m = NULL;
        senti_err err = {0};
        senti_status st = wt_model_load(path, &m, &err);
        if (st != b->code)
            fail_msg("%s: got %s (%s), want %s", b->file, senti_status_name(st), err.msg,
                     senti_status_name(b->code));
        assert_null(m);
        assert_int_equal(err.code, b->code);
        assert_string_equal(err.msg, b->msg);
    }
}

static void test_other_load_errors(void **state)
{
    (void)state;
    wt_model *m = NULL;
    senti_err err = {0};
    assert_int_equal(wt_model_load(DATA "does-not-exist.senti", &m, &err), SENTI_E_MISSING);
    assert_string_equal(err.msg, "weights: cannot open '" DATA "does-not-exist.senti': No such "
                                 "file or directory");
    /* a safetensors file is not a senti file */
    assert_int_equal(wt_model_load(tu_shared_path("models/sst2-mini/config.json"), &m, &err),
                     SENTI_E_FORMAT);
    assert_non_null(strstr(err.msg, "is not a senti weight file (bad magic)"));
    assert_int_equal(wt_model_load(DATA "good.senti", &m, &err), SENTI_OK);
    assert_string_equal(wt_model_meta(m, "source"), "tiny test model");
    wt_model_free(m);
}

/* --- regeneration of the broken files -------------------------------------- */
static uint8_t *entry_fields(uint8_t *buf, size_t len, const char *name)
{
    uint8_t pat[SENTI_MAX_TENSOR_NAME + 4];
    size_t n = strlen(name);
    wt_put_u32(pat, (uint32_t)n);
    memcpy(pat + 4, name, n);
    uint8_t *p = memmem(buf, len, pat, n + 4);
    assert_non_null(p);
    return p + 4 + n; /* dtype, ndim, shape[4], offset, stored, raw, xxh, codec, reserved */
}
#define F_OFFSET (8 + 8 * SENTI_MAX_TENSOR_DIMS)
#define F_STORED (F_OFFSET + 8)
#define F_RAW (F_OFFSET + 16)
#define F_XXH (F_OFFSET + 24)

static void fix_checksums(uint8_t *buf)
{
    wt_file_header h;
    wt_file_header_decode(buf, &h);
    wt_put_u64(buf + 72, XXH64(buf + h.tables_offset, (size_t)h.tables_size, 0));
    wt_put_u64(buf + 120, XXH64(buf, 120, 0));
}

static void write_bytes(const char *dir, const char *file, const uint8_t *p, size_t n)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static void rename_tensor(uint8_t *buf, size_t len, const char *from, const char *to)
{
    uint8_t *fields = entry_fields(buf, len, from);
    memcpy(fields - strlen(from), to, strlen(to)); /* same length */
}

static void regen(const char *dir)
{
    char good[4200];
    snprintf(good, sizeof good, "%s/good.senti", dir);
    wt_model *m = tiny_model(NULL, NULL);
    senti_err err = {0};
    if (wt_model_save(m, good, NULL, &err) != SENTI_OK) fail_msg("%s", err.msg);
    wt_model_free(m);
    size_t len;
    uint8_t *orig = (uint8_t *)tu_read_file(good, &len), *b = malloc(len);
    const char *we = "distilbert.embeddings.word_embeddings.weight";
    const char *pe = "distilbert.embeddings.position_embeddings.weight";
    const char *q = "distilbert.transformer.layer.0.attention.q_lin.bias";

#define FRESH() memcpy(b, orig, len)
    FRESH();
    b[0] = 'X';
    write_bytes(dir, "bad_magic.senti", b, len);
    FRESH();
    wt_put_u16(b + 8, 2);
    fix_checksums(b);
    write_bytes(dir, "newer_major.senti", b, len);
    FRESH();
    wt_put_u64(b + 16, 1u << 5);
    fix_checksums(b);
    write_bytes(dir, "unknown_required_flag.senti", b, len);
    write_bytes(dir, "truncated.senti", orig, len / 2);
    FRESH();
    uint8_t *a = entry_fields(b, len, we), *p = entry_fields(b, len, pe);
    assert_true(wt_get_u64(a + F_STORED) > 64);
    wt_put_u64(p + F_OFFSET, wt_get_u64(a + F_OFFSET) + 64);
    fix_checksums(b);
    write_bytes(dir, "overlap.senti", b, len);
    FRESH();
    p = entry_fields(b, len, "distilbert.embeddings.LayerNorm.weight");
    wt_put_u64(p + F_OFFSET, wt_get_u64(p + F_OFFSET) + 8);
    fix_checksums(b);
    write_bytes(dir, "misaligned.senti", b, len);
    FRESH();
    p = entry_fields(b, len, "classifier.weight");
    wt_put_u64(p + F_RAW, wt_get_u64(p + F_RAW) + 4);
    fix_checksums(b);
    write_bytes(dir, "shape_size.senti", b, len);
    FRESH();
    p = entry_fields(b, len, "classifier.bias");
    wt_put_u64(p + F_XXH, wt_get_u64(p + F_XXH) ^ 1);
    fix_checksums(b);
    write_bytes(dir, "tensor_checksum.senti", b, len);
    FRESH();
    b[88] ^= 0x04; /* n_meta, checksum left stale */
    write_bytes(dir, "header_checksum.senti", b, len);
    FRESH();
    b[WT_FILE_HEADER_SIZE + 40] ^= 0x10; /* inside the CONF section */
    write_bytes(dir, "tables_checksum.senti", b, len);
    FRESH();
    a = entry_fields(b, len, we);
    memset(b + wt_get_u64(a + F_OFFSET), 0, 4); /* zstd magic of the first frame */
    write_bytes(dir, "corrupt_zstd.senti", b, len);
    FRESH();
    rename_tensor(b, len, q, "distilbert.transformer.layer.0.attention.x_lin.bias");
    fix_checksums(b);
    write_bytes(dir, "missing_tensor.senti", b, len);
    FRESH();
    rename_tensor(b, len, "distilbert.transformer.layer.0.attention.k_lin.bias", q);
    fix_checksums(b);
    write_bytes(dir, "duplicate_tensor.senti", b, len);
#undef FRESH
    free(b);
    free(orig);
}

int main(void)
{
    const char *regen_dir = getenv("SENTI_REGEN_BROKEN");
    if (regen_dir && *regen_dir) regen(regen_dir);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_tiny),
        cmocka_unit_test(test_round_trip_sst2_mini),
        cmocka_unit_test(test_broken_files),
        cmocka_unit_test(test_other_load_errors),
        cmocka_unit_test(test_fault_injection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
