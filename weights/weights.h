/* weights/weights.h - the model as data: config, tokenizer settings, vocabulary,
 * metadata and named tensors; reading and writing the .senti weight file
 * (spec: weights/FORMAT.md); importing Hugging Face checkpoints; generating
 * deterministic synthetic checkpoints.
 *
 * A wt_model is read-only once built and may be shared by any number of threads.
 */
#ifndef SENTI_WEIGHTS_H
#define SENTI_WEIGHTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/limits.h"
#include "common/status.h"

/* On-disk values; append-only. */
typedef enum wt_dtype {
    WT_DTYPE_F32 = 0,
    WT_DTYPE_F16 = 1,
    WT_DTYPE_BF16 = 2,
    /* int8 weights, row-major (rows = shape[0]) with one f32 scale per row:
     * w[r][c] ~= q[r][c] * scale[r]. Filled in by the int8 path. */
    WT_DTYPE_I8_ROWSCALE = 3,
    WT_DTYPE_COUNT_
} wt_dtype;

typedef enum wt_activation { WT_ACT_GELU = 0, WT_ACT_RELU = 1 } wt_activation;

/* Tokenizer settings carried in the file (from tokenizer_config.json). */
typedef struct wt_tok_config {
    bool do_lower_case;        /* default true */
    bool strip_accents;        /* HF: null means "follow do_lower_case" */
    bool tokenize_chinese_chars;
    uint32_t max_length;       /* model_max_length, <= max_positions */
    char unk_token[32], cls_token[32], sep_token[32], pad_token[32], mask_token[32];
} wt_tok_config;

typedef struct wt_config {
    char architecture[64];     /* "DistilBertForSequenceClassification" */
    uint32_t dim, n_layers, n_heads, hidden_dim, vocab_size, max_positions, n_labels;
    float ln_eps;              /* 1e-12 for DistilBERT */
    wt_activation activation;
    char labels[SENTI_MAX_LABELS][SENTI_MAX_LABEL_NAME]; /* id -> name */
    wt_tok_config tok;
} wt_config;

typedef struct wt_tensor {
    char name[SENTI_MAX_TENSOR_NAME];
    wt_dtype dtype;
    uint32_t ndim;
    uint64_t shape[SENTI_MAX_TENSOR_DIMS];
    void *data;        /* 64-byte aligned; f32 data for WT_DTYPE_F32 */
    uint64_t nbytes;   /* raw (decompressed) size */
    float *scales;     /* WT_DTYPE_I8_ROWSCALE only: shape[0] floats, else NULL */
} wt_tensor;

typedef struct wt_model wt_model;

/* --- building (importers and tests) ------------------------------------ */
/* Creates an empty model with the given config (copied). */
senti_status wt_model_create(const wt_config *cfg, wt_model **out, senti_err *err);
void wt_model_free(wt_model *m); /* NULL is a no-op */

/* Adds a tensor; data (nbytes) is copied into an aligned buffer owned by m.
 * Rejects duplicates, bad dtypes, shape/size disagreement. */
senti_status wt_model_add_tensor(wt_model *m, const char *name, wt_dtype dtype, uint32_t ndim,
                                 const uint64_t *shape, const void *data, uint64_t nbytes,
                                 senti_err *err);
/* Vocabulary in id order; tokens are copied. */
senti_status wt_model_set_vocab(wt_model *m, const char *const *tokens, uint32_t n, senti_err *err);
/* Free-form string metadata (source, sha256, converter version...). Replaces existing key. */
senti_status wt_model_set_meta(wt_model *m, const char *key, const char *value, senti_err *err);

/* --- reading --------------------------------------------------------------- */
const wt_config *wt_model_config(const wt_model *m);
/* NULL if absent. Valid until wt_model_free. */
const wt_tensor *wt_model_tensor(const wt_model *m, const char *name);
uint32_t wt_model_tensor_count(const wt_model *m);
const wt_tensor *wt_model_tensor_at(const wt_model *m, uint32_t i);
uint32_t wt_model_vocab_size(const wt_model *m);
const char *wt_model_vocab_token(const wt_model *m, uint32_t id); /* NULL if out of range */
const char *wt_model_meta(const wt_model *m, const char *key);    /* NULL if absent */
uint32_t wt_model_meta_count(const wt_model *m);
void wt_model_meta_at(const wt_model *m, uint32_t i, const char **key, const char **value);

/* Frees the data of tensor `name` once an engine has copied it into its own
 * layout and will not read it again (eng_model_release_packed). The tensor
 * stays listed with its name, dtype and shape; its data becomes NULL, and
 * wt_model_validate (so saving, quantizing or building another engine from m)
 * and wt_export_hf then fail naming it. A view into a loaded file's block gives
 * its whole pages back to the OS (madvise). SENTI_E_MISSING if there is no
 * such tensor; releasing twice is a no-op. */
senti_status wt_model_release_data(wt_model *m, const char *name, senti_err *err);

/* Checks that every tensor DistilBertForSequenceClassification needs is present
 * with the shape the config implies, and that the vocabulary matches vocab_size.
 * The message names exactly what is missing or mis-shaped. */
senti_status wt_model_validate(const wt_model *m, senti_err *err);

/* --- the .senti file ----------------------------------------------------- */
typedef struct wt_save_opts {
    int zstd_level;                      /* 0 = default (3) */
    /* progress(done_bytes, total_bytes, user) after each tensor; may be NULL */
    void (*progress)(uint64_t done, uint64_t total, void *user);
    void *user;
} wt_save_opts;

/* Writes atomically: PATH.tmp.<pid>, fsync, rename, fsync dir. opts may be NULL. */
senti_status wt_model_save(const wt_model *m, const char *path, const wt_save_opts *opts,
                           senti_err *err);
/* Validates everything before trusting it (see FORMAT.md), streams tensor by
 * tensor into aligned buffers. On failure *out is untouched and err names the
 * problem (bad magic, version, truncation, offsets, checksum, zstd, ...). */
senti_status wt_model_load(const char *path, wt_model **out, senti_err *err);
/* Hex xxh64 of the whole file as loaded, for /model-info and cache keys. */
const char *wt_model_file_checksum(const wt_model *m);

/* --- Hugging Face ---------------------------------------------------------- */
/* Reads config.json, model.safetensors (F32/F16/BF16 -> F32), vocab.txt (or
 * tokenizer.json) and tokenizer_config.json from dir; validates names/shapes. */
senti_status wt_import_hf(const char *dir, wt_model **out, senti_err *err);
/* Writes dir/{config.json, model.safetensors, vocab.txt, tokenizer_config.json}. */
senti_status wt_export_hf(const wt_model *m, const char *dir, senti_err *err);

/* Deterministic DistilBERT-base-shaped checkpoint (768/6/12/3072/30522/512, 2 labels),
 * weights ~ N(0, 0.02), layer norms ~ 1 / ~ 0, vocabulary from vocab_path. */
senti_status wt_synthetic_base(uint64_t seed, const char *vocab_path, wt_model **out,
                               senti_err *err);

/* --- int8 quantization (weights/quantize.c) ------------------------------ */
/* The one int8 weight quantizer: w (n, k) f32, finite -> q (n, k) int8 in
 * [-127, 127] and scale (n) = max|w_row| / 127, q = rint(w / scale) (half to
 * even); an all-zero row gets scale 0 and q = 0. Borrows every buffer. */
void wt_quantize_rows_int8(const float *w, size_t n, size_t k, int8_t *q, float *scale);

typedef struct wt_quant_opts {
    bool head; /* also quantize pre_classifier and classifier (default: they stay f32) */
} wt_quant_opts;

/* A new model (owned by the caller, *out) with the same config, vocabulary and
 * metadata as src (borrowed, validated first), whose transformer linear weights
 * (q/k/v/out_lin, ffn.lin1/lin2 of every layer) are WT_DTYPE_I8_ROWSCALE as
 * above; embeddings, biases and layer norms stay f32. Sets meta dtype = "int8"
 * ("int8-all" with o->head). o may be NULL. */
senti_status wt_model_quantize_int8(const wt_model *src, const wt_quant_opts *o, wt_model **out,
                                    senti_err *err);

/* Human name of a dtype ("f32", ...). */
const char *wt_dtype_name(wt_dtype d);

#endif
