/* weights/hf_import.c - a Hugging Face DistilBERT checkpoint directory
 * (config.json, model.safetensors, vocab.txt or tokenizer.json,
 * tokenizer_config.json) into a wt_model. Unknown tensors are skipped. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "weights/weights_internal.h"

static void join(char *buf, size_t cap, const char *dir, const char *file)
{
    snprintf(buf, cap, "%s/%s", dir, file);
}

static bool file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static senti_status load_json(const char *path, json_t **out, senti_err *err)
{
    json_error_t jerr;
    *out = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (*out && json_is_object(*out)) return SENTI_OK;
    if (*out) {
        json_decref(*out);
        *out = NULL;
        return senti_fail(err, SENTI_E_FORMAT, "weights: %s: not a JSON object", path);
    }
    if (!file_exists(path))
        return senti_fail(err, SENTI_E_MISSING, "weights: %s: no such file", path);
    return senti_fail(err, SENTI_E_FORMAT, "weights: %s:%d: %s", path, jerr.line, jerr.text);
}

static senti_status get_u32(json_t *o, const char *path, const char *key, bool required,
                            uint32_t dflt, uint32_t *out, senti_err *err)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        if (required)
            return senti_fail(err, SENTI_E_MISSING, "weights: %s: \"%s\" is missing", path, key);
        *out = dflt;
        return SENTI_OK;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > UINT32_MAX)
        return senti_fail(err, SENTI_E_CONFIG, "weights: %s: \"%s\" must be a non-negative "
                          "integer", path, key);
    *out = (uint32_t)json_integer_value(v);
    return SENTI_OK;
}

static senti_status parse_config(const char *dir, wt_config *c, senti_err *err)
{
    char path[4096];
    json_t *j = NULL;
    senti_status st;
    join(path, sizeof path, dir, "config.json");
    SENTI_TRY(load_json(path, &j, err));
    json_t *arch = json_array_get(json_object_get(j, "architectures"), 0);
    const char *mt = json_string_value(json_object_get(j, "model_type"));
    if (json_is_string(arch)) {
        snprintf(c->architecture, sizeof c->architecture, "%s", json_string_value(arch));
    } else if (mt && !strcmp(mt, "distilbert")) {
        snprintf(c->architecture, sizeof c->architecture, "DistilBertForSequenceClassification");
    } else {
        st = senti_fail(err, SENTI_E_MISSING, "weights: %s: \"architectures\" is missing", path);
        goto fail;
    }
    SENTI_TRY(get_u32(j, path, "dim", true, 0, &c->dim, err));
    SENTI_TRY(get_u32(j, path, "n_layers", true, 0, &c->n_layers, err));
    SENTI_TRY(get_u32(j, path, "n_heads", true, 0, &c->n_heads, err));
    SENTI_TRY(get_u32(j, path, "hidden_dim", true, 0, &c->hidden_dim, err));
    SENTI_TRY(get_u32(j, path, "vocab_size", true, 0, &c->vocab_size, err));
    SENTI_TRY(get_u32(j, path, "max_position_embeddings", true, 0, &c->max_positions, err));
    c->ln_eps = 1e-12f; /* hard-coded in HF modeling_distilbert.py */
    const char *act = json_string_value(json_object_get(j, "activation"));
    if (!act || !strcmp(act, "gelu")) {
        c->activation = WT_ACT_GELU;
    } else if (!strcmp(act, "relu")) {
        c->activation = WT_ACT_RELU;
    } else {
        st = senti_fail(err, SENTI_E_UNSUPPORTED, "weights: %s: activation '%.32s' is not "
                        "supported (gelu or relu)", path, act);
        goto fail;
    }
    json_t *labels = json_object_get(j, "id2label");
    if (json_is_object(labels) && json_object_size(labels) > 0) {
        size_t n = json_object_size(labels);
        if (n > SENTI_MAX_LABELS) {
            st = senti_fail(err, SENTI_E_LIMIT, "weights: %s: %zu labels exceed the limit of %d",
                            path, n, SENTI_MAX_LABELS);
            goto fail;
        }
        c->n_labels = (uint32_t)n;
        for (size_t i = 0; i < n; i++) {
            char key[16];
            snprintf(key, sizeof key, "%zu", i);
            const char *name = json_string_value(json_object_get(labels, key));
            if (!name || !*name || strlen(name) >= SENTI_MAX_LABEL_NAME) {
                st = senti_fail(err, SENTI_E_CONFIG, "weights: %s: id2label must map \"0\".."
                                "\"%zu\" to names of 1..%d bytes (bad entry \"%s\")", path, n - 1,
                                SENTI_MAX_LABEL_NAME - 1, key);
                goto fail;
            }
            snprintf(c->labels[i], sizeof c->labels[i], "%s", name);
        }
    } else {
        uint32_t n;
        SENTI_TRY(get_u32(j, path, "num_labels", false, 2, &n, err));
        if (n < 1 || n > SENTI_MAX_LABELS) {
            st = senti_fail(err, SENTI_E_LIMIT, "weights: %s: num_labels %" PRIu32 " (must be "
                            "1..%d)", path, n, SENTI_MAX_LABELS);
            goto fail;
        }
        c->n_labels = n;
        for (uint32_t i = 0; i < n; i++)
            snprintf(c->labels[i], sizeof c->labels[i], "LABEL_%" PRIu32, i);
    }
    st = SENTI_OK;
fail:
    json_decref(j);
    return st;
}

static bool get_bool(json_t *o, const char *key, bool dflt)
{
    json_t *v = json_object_get(o, key);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

static senti_status get_token(json_t *o, const char *path, const char *key, const char *dflt,
                              char *out, size_t cap, senti_err *err)
{
    json_t *v = json_object_get(o, key);
    if (json_is_object(v)) v = json_object_get(v, "content"); /* AddedToken form */
    const char *s = json_is_string(v) ? json_string_value(v) : dflt;
    if (strlen(s) >= cap)
        return senti_fail(err, SENTI_E_LIMIT, "weights: %s: \"%s\" longer than %zu bytes", path,
                          key, cap - 1);
    snprintf(out, cap, "%s", s);
    return SENTI_OK;
}

static senti_status parse_tok_config(const char *dir, wt_config *c, senti_err *err)
{
    char path[4096];
    json_t *j = NULL;
    senti_status st;
    wt_tok_config *t = &c->tok;
    join(path, sizeof path, dir, "tokenizer_config.json");
    if (file_exists(path)) {
        SENTI_TRY(load_json(path, &j, err));
    } else {
        j = json_object(); /* every setting has a BERT default */
        if (!j) return senti_fail(err, SENTI_E_NOMEM, "weights: out of memory");
    }
    t->do_lower_case = get_bool(j, "do_lower_case", true);
    t->strip_accents = get_bool(j, "strip_accents", t->do_lower_case); /* null: follow lower */
    t->tokenize_chinese_chars = get_bool(j, "tokenize_chinese_chars", true);
    json_t *ml = json_object_get(j, "model_max_length");
    double mlv = json_is_number(ml) ? json_number_value(ml) : 0.0;
    t->max_length = (mlv >= 1.0 && mlv < (double)c->max_positions) ? (uint32_t)mlv
                                                                    : c->max_positions;
    SENTI_TRY(get_token(j, path, "unk_token", "[UNK]", t->unk_token, sizeof t->unk_token, err));
    SENTI_TRY(get_token(j, path, "cls_token", "[CLS]", t->cls_token, sizeof t->cls_token, err));
    SENTI_TRY(get_token(j, path, "sep_token", "[SEP]", t->sep_token, sizeof t->sep_token, err));
    SENTI_TRY(get_token(j, path, "pad_token", "[PAD]", t->pad_token, sizeof t->pad_token, err));
    SENTI_TRY(get_token(j, path, "mask_token", "[MASK]", t->mask_token, sizeof t->mask_token,
                        err));
    st = SENTI_OK;
fail:
    json_decref(j);
    return st;
}

static bool utf8_valid(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!len || i + len > n || (len == 2 && c < 0xc2)) return false;
        for (size_t k = 1; k < len; k++)
            if ((s[i + k] & 0xc0) != 0x80) return false;
        if (len == 3 && ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] >= 0xa0)))
            return false;
        if (len == 4 && ((c == 0xf0 && s[i + 1] < 0x90) || c > 0xf4 ||
                         (c == 0xf4 && s[i + 1] >= 0x90)))
            return false;
        i += len;
    }
    return true;
}

/* vocab.txt: one token per line, id = line number; only '\n' is stripped (as HF does). */
senti_status wt_vocab_load_txt(wt_model *m, const char *path, senti_err *err)
{
    senti_status st;
    char *buf = NULL;
    const char **toks = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return senti_fail(err, SENTI_E_IO, "weights: cannot open '%s': %s", path,
                              strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || sb.st_size > (off_t)SENTI_MAX_VOCAB * SENTI_MAX_TOKEN_BYTES) {
        st = senti_fail(err, SENTI_E_LIMIT, "weights: %s: too large for a vocabulary", path);
        goto fail;
    }
    size_t size = (size_t)sb.st_size;
    buf = senti_malloc(size + 1);
    if (!buf) {
        st = senti_fail(err, SENTI_E_NOMEM, "weights: out of memory reading '%s'", path);
        goto fail;
    }
    if (fread(buf, 1, size, f) != size) {
        st = senti_fail(err, SENTI_E_IO, "weights: reading '%s' failed", path);
        goto fail;
    }
    buf[size] = '\0';
    if (!utf8_valid((const uint8_t *)buf, size) || memchr(buf, 0, size)) {
        st = senti_fail(err, SENTI_E_UTF8, "weights: %s: not valid UTF-8 text", path);
        goto fail;
    }
    size_t lines = 0;
    for (size_t i = 0; i < size; i++) lines += buf[i] == '\n';
    if (size && buf[size - 1] != '\n') lines++;
    if (lines > SENTI_MAX_VOCAB) {
        st = senti_fail(err, SENTI_E_LIMIT, "weights: %s: %zu tokens exceed the limit of %u",
                        path, lines, SENTI_MAX_VOCAB);
        goto fail;
    }
    toks = senti_calloc(lines ? lines : 1, sizeof *toks);
    if (!toks) {
        st = senti_fail(err, SENTI_E_NOMEM, "weights: out of memory reading '%s'", path);
        goto fail;
    }
    size_t n = 0;
    for (char *p = buf; p < buf + size;) {
        char *nl = memchr(p, '\n', (size_t)(buf + size - p));
        if (nl) *nl = '\0';
        toks[n++] = p;
        p = nl ? nl + 1 : buf + size;
    }
    SENTI_TRY(wt_model_set_vocab(m, toks, (uint32_t)n, err));
fail:
    senti_free(toks);
    senti_free(buf);
    fclose(f);
    return st;
}

/* tokenizer.json: model.vocab maps token -> id; ids must be exactly 0..n-1. */
static senti_status load_vocab_json(wt_model *m, const char *path, senti_err *err)
{
    json_t *j = NULL;
    const char **toks = NULL;
    senti_status st;
    SENTI_TRY(load_json(path, &j, err));
    json_t *vocab = json_object_get(json_object_get(j, "model"), "vocab");
    if (!json_is_object(vocab)) {
        st = senti_fail(err, SENTI_E_FORMAT, "weights: %s: no model.vocab object (not a "
                        "WordPiece tokenizer?)", path);
        goto fail;
    }
    size_t n = json_object_size(vocab);
    if (n > SENTI_MAX_VOCAB) {
        st = senti_fail(err, SENTI_E_LIMIT, "weights: %s: %zu tokens exceed the limit of %u",
                        path, n, SENTI_MAX_VOCAB);
        goto fail;
    }
    toks = senti_calloc(n ? n : 1, sizeof *toks);
    if (!toks) {
        st = senti_fail(err, SENTI_E_NOMEM, "weights: out of memory reading '%s'", path);
        goto fail;
    }
    const char *key;
    json_t *v;
    json_object_foreach(vocab, key, v)
    {
        json_int_t id = json_integer_value(v);
        if (!json_is_integer(v) || id < 0 || (size_t)id >= n || toks[id]) {
            st = senti_fail(err, SENTI_E_FORMAT, "weights: %s: token '%.32s' has id %" JSON_INTEGER_FORMAT
                            " (ids must be 0..%zu, each once)", path, key, id, n - 1);
            goto fail;
        }
        toks[id] = key;
    }
    SENTI_TRY(wt_model_set_vocab(m, toks, (uint32_t)n, err));
fail:
    senti_free(toks);
    json_decref(j);
    return st;
}

static senti_status load_tensors(wt_model *m, const char *dir, senti_err *err)
{
    char path[4096];
    senti_status st;
    wt_st_file sf = {0};
    float *tmp = NULL;
    void *map = MAP_FAILED;
    size_t size = 0;
    join(path, sizeof path, dir, "model.safetensors");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        char bin[4096];
        join(bin, sizeof bin, dir, "pytorch_model.bin");
        if (errno == ENOENT && file_exists(bin))
            return senti_fail(err, SENTI_E_UNSUPPORTED, "weights: %s: only model.safetensors is "
                              "read; convert pytorch_model.bin with safetensors first", dir);
        return senti_fail(err, errno == ENOENT ? SENTI_E_MISSING : SENTI_E_IO,
                          "weights: cannot open '%s': %s", path, strerror(errno));
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || sb.st_size < 8) {
        st = senti_fail(err, SENTI_E_TRUNCATED, "weights: %s: too short for a safetensors file",
                        path);
        goto fail;
    }
    size = (size_t)sb.st_size;
    map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        st = senti_fail(err, SENTI_E_IO, "weights: cannot map '%s': %s", path, strerror(errno));
        goto fail;
    }
    SENTI_TRY(wt_st_parse(map, size, path, &sf, err));
    const wt_config *c = wt_model_config(m);
    SENTI_TRY(wt_model_reserve(m, wt_expect_count(c), err));
    for (uint32_t i = 0; i < sf.n; i++) {
        const wt_st_tensor *t = &sf.tensors[i];
        if (!wt_expect_known(c, t->name)) continue; /* e.g. vocab_projector.*: not stored */
        if (t->dtype < 0) {
            st = senti_fail(err, SENTI_E_UNSUPPORTED, "weights: %s: tensor '%s': dtype %s is "
                            "not supported (expected F32, F16 or BF16)", path, t->name,
                            t->dtype_name);
            goto fail;
        }
        if (t->ndim == 0 || t->end == t->begin) {
            st = senti_fail(err, SENTI_E_SHAPE, "weights: %s: tensor '%s' is empty or a "
                            "scalar", path, t->name);
            goto fail;
        }
        uint64_t count = 1;
        for (uint32_t d = 0; d < t->ndim; d++) count *= t->shape[d];
        if (t->dtype == WT_DTYPE_F32) {
            SENTI_TRY(wt_model_add_tensor(m, t->name, WT_DTYPE_F32, t->ndim, t->shape,
                                          sf.data + t->begin, count * 4, err));
            continue;
        }
        tmp = senti_malloc((size_t)count * 4);
        if (!tmp) {
            st = senti_fail(err, SENTI_E_NOMEM, "weights: out of memory converting '%s'",
                            t->name);
            goto fail;
        }
        SENTI_TRY(wt_st_to_f32(&sf, t, tmp, err));
        SENTI_TRY(wt_model_add_tensor(m, t->name, WT_DTYPE_F32, t->ndim, t->shape, tmp,
                                      count * 4, err));
        senti_free(tmp);
        tmp = NULL;
    }
    st = SENTI_OK;
fail:
    senti_free(tmp);
    wt_st_free(&sf);
    if (map != MAP_FAILED) munmap(map, size);
    close(fd);
    return st;
}

senti_status wt_import_hf(const char *dir, wt_model **out, senti_err *err)
{
    senti_status st;
    wt_model *m = NULL;
    wt_config c;
    char path[4096];
    memset(&c, 0, sizeof c);
    SENTI_TRY(parse_config(dir, &c, err));
    SENTI_TRY(parse_tok_config(dir, &c, err));
    SENTI_TRY(wt_config_check(&c, "config.json", err)); /* limits before any allocation */
    SENTI_TRY(wt_model_create(&c, &m, err));
    wt_model_set_origin(m, "config.json");
    join(path, sizeof path, dir, "vocab.txt");
    if (file_exists(path)) {
        SENTI_TRY(wt_vocab_load_txt(m, path, err));
    } else {
        join(path, sizeof path, dir, "tokenizer.json");
        if (!file_exists(path)) {
            st = senti_fail(err, SENTI_E_MISSING, "weights: %s: neither vocab.txt nor "
                            "tokenizer.json is present", dir);
            goto fail;
        }
        SENTI_TRY(load_vocab_json(m, path, err));
    }
    SENTI_TRY(load_tensors(m, dir, err));
    SENTI_TRY(wt_model_validate(m, err));
    *out = m;
    return SENTI_OK;
fail:
    wt_model_free(m);
    return st;
}
