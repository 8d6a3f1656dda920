/* common/limits.h - every hard limit in one place, with its reason.
 *
 * These are ceilings that protect memory and arithmetic: anything read from a
 * file, a socket or the environment is checked against them before use. Runtime
 * configuration (cfg/) may lower the serving limits; it can never raise them.
 */
#ifndef SENTI_COMMON_LIMITS_H
#define SENTI_COMMON_LIMITS_H

/* --- model shape ------------------------------------------------------- */
/* BERT-family position tables are 512 long; a longer sequence has no position. */
#define SENTI_MAX_SEQ 512
/* Batch of sequences one engine state is sized for (activations scale with it). */
#define SENTI_MAX_BATCH 256
/* Math threads per model (OpenBLAS --threads): its pool is fixed at start-up
 * (MAX_THREADS=64 in Debian's build); more than this is a typo, not a machine. */
#define SENTI_MAX_THREADS 256
/* Largest hidden size / vocab we accept from a file: far above DistilBERT-base
 * (768 / 30522) yet small enough that dim*vocab*4 cannot overflow 64 bits. */
#define SENTI_MAX_DIM 8192
#define SENTI_MAX_HIDDEN 65536
#define SENTI_MAX_LAYERS 64
#define SENTI_MAX_HEADS 128
#define SENTI_MAX_VOCAB (1u << 20)
#define SENTI_MAX_POSITIONS 8192
#define SENTI_MAX_LABELS 64
#define SENTI_MAX_LABEL_NAME 64

/* --- weight files ------------------------------------------------------ */
#define SENTI_MAX_TENSORS 4096      /* DistilBERT has 104; room for variants */
#define SENTI_MAX_TENSOR_NAME 128   /* bytes incl. NUL */
#define SENTI_MAX_TENSOR_DIMS 4
#define SENTI_MAX_META_ENTRIES 64   /* key/value metadata strings */
#define SENTI_MAX_META_VALUE 4096
#define SENTI_MAX_TOKEN_BYTES 256   /* one vocabulary entry */
/* safetensors JSON header: HF headers for BERT-size models are ~20 KB. */
#define SENTI_MAX_SAFETENSORS_HEADER (64u << 20)
/* .senti header tables (config, vocabulary, metadata, tensor table): a vocabulary
 * at SENTI_MAX_VOCAB with tokens averaging under 250 bytes still fits. */
#define SENTI_MAX_SENTI_TABLES (256u << 20)
/* Decompressed tensor bytes of one model: 16 GiB, 60x DistilBERT-base f32; a
 * zstd frame can claim any size, so this caps the single weights allocation. */
#define SENTI_MAX_WEIGHT_BYTES (1ull << 34)

/* --- tokenizer --------------------------------------------------------- */
/* Hugging Face BertTokenizer: words longer than this become [UNK]. */
#define SENTI_MAX_WORD_CHARS 100
/* One input text (bytes). The service's limits.max_text_chars is lower. */
#define SENTI_MAX_TEXT_BYTES (1u << 20)

/* --- service (defaults; cfg may lower) -------------------------------- */
#define SENTI_MAX_BODY_BYTES (8u << 20)
#define SENTI_MAX_TEXTS_PER_REQUEST 1024
/* --- configuration ----------------------------------------------------- */
/* Largest config file read: a real one is a few KB. */
#define SENTI_MAX_CONFIG_FILE_BYTES (1u << 20)
/* Largest secret file (*_FILE): one key, or a list of keys. */
#define SENTI_MAX_SECRET_FILE_BYTES (64u << 10)
/* Shortest API key accepted (cfg validates it, so --check-config agrees with serve):
 * 16 random bytes are out of reach of online guessing behind the rate limiter. */
#define SENTI_MIN_API_KEY_BYTES 16

#endif
