/* weights/weights_internal.h - helpers shared by the files of weights/ (and
 * the weights tests and fuzzers). No other folder includes this header. */
#ifndef SENTI_WEIGHTS_INTERNAL_H
#define SENTI_WEIGHTS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weights/weights.h"

#define WT_ALIGN 64u
#define WT_ALIGN_UP(n) (((n) + (uint64_t)(WT_ALIGN - 1)) & ~(uint64_t)(WT_ALIGN - 1))

/* --- model.c ------------------------------------------------------------- */
/* Raw byte size of a tensor of this dtype and shape, overflow-checked against
 * 2^62 (see FORMAT.md for the I8_ROWSCALE layout). On failure the message names
 * `name`. ndim must be 1..SENTI_MAX_TENSOR_DIMS, every dimension >= 1. */
senti_status wt_tensor_raw_size(const char *name, wt_dtype dtype, uint32_t ndim,
                                const uint64_t *shape, uint64_t *out, senti_err *err);
/* Adds a tensor whose data already lives at `data` (64-byte aligned) inside the
 * arena the model adopts with wt_model_adopt_arena: no copy. Same checks as
 * wt_model_add_tensor. */
senti_status wt_model_add_view(wt_model *m, const char *name, wt_dtype dtype, uint32_t ndim,
                               const uint64_t *shape, void *data, uint64_t nbytes,
                               senti_err *err);
/* Makes sure `n` tensors fit without another allocation. */
senti_status wt_model_reserve(wt_model *m, uint32_t n, senti_err *err);
/* Takes ownership of one senti_alloc_aligned block (freed by wt_model_free). */
void wt_model_adopt_arena(wt_model *m, void *arena);
void wt_model_set_file_checksum(wt_model *m, uint64_t xxh);
/* Where the config came from, for messages: "config.json", "the .senti config section". */
void wt_model_set_origin(wt_model *m, const char *origin); /* static string, borrowed */
const char *wt_model_origin(const wt_model *m);

/* --- validate.c ---------------------------------------------------------- */
typedef struct wt_expect {
    char name[SENTI_MAX_TENSOR_NAME];
    uint32_t ndim;
    uint64_t shape[2];
    const char *why;   /* "hidden_dim x dim": how the shape follows from the config */
    bool matrix;       /* a linear weight: may be stored as I8_ROWSCALE */
} wt_expect;
/* Number of tensors DistilBertForSequenceClassification needs for this config. */
uint32_t wt_expect_count(const wt_config *c);
/* The i-th (0 <= i < wt_expect_count) required tensor, in HF state-dict order. */
void wt_expect_at(const wt_config *c, uint32_t i, wt_expect *e);
/* True if `name` is one of the required tensors for this config. */
bool wt_expect_known(const wt_config *c, const char *name);
/* Config values against limits.h and each other. origin names the source. */
senti_status wt_config_check(const wt_config *c, const char *origin, senti_err *err);

/* --- hf_import.c --------------------------------------------------------- */
/* Reads a BERT vocab.txt (one token per line, id = line number; only '\n' is
 * stripped, as Hugging Face does) into m. */
senti_status wt_vocab_load_txt(wt_model *m, const char *path, senti_err *err);

/* --- safetensors.c ------------------------------------------------------- */
typedef struct wt_st_tensor {
    char name[SENTI_MAX_TENSOR_NAME];
    char dtype_name[8];  /* as in the file: "F32", "I64", ... */
    int dtype;           /* wt_dtype for F32/F16/BF16, -1 for other (known-size) dtypes */
    uint32_t ndim;
    uint64_t shape[SENTI_MAX_TENSOR_DIMS];
    uint64_t begin, end; /* byte offsets relative to the data section */
} wt_st_tensor;

typedef struct wt_st_file {
    wt_st_tensor *tensors; /* in header order */
    uint32_t n;
    const uint8_t *data;   /* borrowed: start of the data section inside buf */
    uint64_t data_len;
} wt_st_file;

/* Parses a whole safetensors file held in memory (buf is borrowed and must
 * outlive *out). Checks the header length against SENTI_MAX_SAFETENSORS_HEADER
 * and len, dtypes, shapes vs byte sizes (overflow-checked), offsets in bounds
 * and non-overlapping. `what` names the file in messages. */
senti_status wt_st_parse(const uint8_t *buf, size_t len, const char *what, wt_st_file *out,
                         senti_err *err);
void wt_st_free(wt_st_file *f);
/* Converts one tensor (F32/F16/BF16, exact) into dst (element count floats). */
senti_status wt_st_to_f32(const wt_st_file *f, const wt_st_tensor *t, float *dst,
                          senti_err *err);
/* Writes a safetensors file of F32 tensors (names and shapes from m). */
senti_status wt_st_write_model(const wt_model *m, const char *path, senti_err *err);

/* Exact half -> float conversions. */
float wt_f16_to_f32(uint16_t h);
float wt_bf16_to_f32(uint16_t h);

/* --- the .senti file (FORMAT.md) ------------------------------------------ */
#define WT_FILE_MAGIC "\x89SNT\r\n\x1a\n"
#define WT_FILE_MAJOR 1
#define WT_FILE_MINOR 0
#define WT_FILE_HEADER_SIZE 128
#define WT_FILE_REQUIRED_FLAGS_KNOWN 0u /* no required flag defined in 1.x */
#define WT_SECTION_REQUIRED 1u
#define WT_CODEC_ZSTD 1u
#define WT_TAG(a, b, c, d) \
    ((uint32_t)(a) | ((uint32_t)(b) << 8) | ((uint32_t)(c) << 16) | ((uint32_t)(d) << 24))
#define WT_TAG_CONF WT_TAG('C', 'O', 'N', 'F')
#define WT_TAG_TOKN WT_TAG('T', 'O', 'K', 'N')
#define WT_TAG_VOCB WT_TAG('V', 'O', 'C', 'B')
#define WT_TAG_META WT_TAG('M', 'E', 'T', 'A')
#define WT_TAG_TENS WT_TAG('T', 'E', 'N', 'S')
/* Bytes of one TENS entry after its name string. */
#define WT_TENSOR_ENTRY_FIXED (4 + 4 + 8 * SENTI_MAX_TENSOR_DIMS + 8 * 4 + 4 + 4)

/* The fixed header, decoded (on disk: little-endian, fields at these offsets). */
typedef struct wt_file_header {
    uint8_t magic[8];         /* 0 */
    uint16_t version_major;   /* 8 */
    uint16_t version_minor;   /* 10 */
    uint32_t header_size;     /* 12 */
    uint64_t required_flags;  /* 16 */
    uint64_t optional_flags;  /* 24 */
    uint64_t file_size;       /* 32 */
    uint64_t tables_offset;   /* 40 */
    uint64_t tables_size;     /* 48 */
    uint64_t data_offset;     /* 56 */
    uint64_t data_size;       /* 64 */
    uint64_t tables_xxh64;    /* 72 */
    uint32_t n_tensors;       /* 80 */
    uint32_t n_vocab;         /* 84 */
    uint32_t n_meta;          /* 88 */
    uint32_t reserved0;       /* 92 */
    uint64_t reserved1[3];    /* 96 */
    uint64_t header_xxh64;    /* 120: xxh64 of bytes 0..119 */
} wt_file_header;
_Static_assert(sizeof(wt_file_header) == WT_FILE_HEADER_SIZE, "header is 128 bytes on disk");
_Static_assert(offsetof(wt_file_header, header_xxh64) == 120, "checksum field at 120");

/* Encodes h into 128 little-endian bytes, computing header_xxh64 (also stored in h). */
void wt_file_header_encode(wt_file_header *h, uint8_t out[WT_FILE_HEADER_SIZE]);
/* Decodes 128 bytes (no checks). */
void wt_file_header_decode(const uint8_t in[WT_FILE_HEADER_SIZE], wt_file_header *h);

/* --- little-endian helpers ---------------------------------------------- */
/* Little-endian helpers (the format is little-endian on every host). */
static inline void wt_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void wt_put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void wt_put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t wt_get_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t wt_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}
static inline uint64_t wt_get_u64(const uint8_t *p)
{
    return (uint64_t)wt_get_u32(p) | ((uint64_t)wt_get_u32(p + 4) << 32);
}

#endif
