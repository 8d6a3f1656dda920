/* weights/hf_export.c - a wt_model back into a Hugging Face directory
 * (config.json, model.safetensors F32, vocab.txt, tokenizer_config.json) that
 * transformers / the ONNX export anchor can read. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "weights/weights_internal.h"

static senti_status dump_json(json_t *j, const char *path, senti_err *err)
{
    if (!j) return senti_fail(err, SENTI_E_NOMEM, "weights: out of memory writing '%s'", path);
    int rc = json_dump_file(j, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(j);
    if (rc != 0) return senti_fail(err, SENTI_E_IO, "weights: cannot write '%s'", path);
    return SENTI_OK;
}

static json_t *config_json(const wt_config *c)
{
    json_t *id2label = json_object(), *label2id = json_object();
    for (uint32_t i = 0; id2label && label2id && i < c->n_labels; i++) {
        char key[16];
        snprintf(key, sizeof key, "%u", (unsigned)i);
        json_object_set_new(id2label, key, json_string(c->labels[i]));
        json_object_set_new(label2id, c->labels[i], json_integer(i));
    }
    return json_pack("{s:s, s:[s], s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:o, s:o, s:f, s:f, s:f, "
                     "s:f, s:i, s:b, s:b, s:f}",
                     "activation", c->activation == WT_ACT_RELU ? "relu" : "gelu",
                     "architectures", c->architecture, "model_type", "distilbert",
                     "dim", (json_int_t)c->dim, "n_layers", (json_int_t)c->n_layers,
                     "n_heads", (json_int_t)c->n_heads, "hidden_dim", (json_int_t)c->hidden_dim,
                     "vocab_size", (json_int_t)c->vocab_size,
                     "max_position_embeddings", (json_int_t)c->max_positions,
                     "id2label", id2label, "label2id", label2id,
                     "dropout", 0.1, "attention_dropout", 0.1, "qa_dropout", 0.1,
                     "seq_classif_dropout", 0.2, "pad_token_id", (json_int_t)0,
                     "sinusoidal_pos_embds", 0, "tie_weights_", 1,
                     "initializer_range", 0.02);
}

senti_status wt_export_hf(const wt_model *m, const char *dir, senti_err *err)
{
    senti_status st;
    char path[4096];
    const wt_config *c = wt_model_config(m);
    for (uint32_t i = 0; i < wt_model_tensor_count(m); i++)
        if (!wt_model_tensor_at(m, i)->data)
            return senti_fail(err, SENTI_E_INVALID,
                              "weights: tensor '%s' was released (an engine packed it); load the "
                              "model again to export it",
                              wt_model_tensor_at(m, i)->name);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return senti_fail(err, SENTI_E_IO, "weights: cannot create '%s': %s", dir,
                          strerror(errno));
    json_t *cj = config_json(c);
    snprintf(path, sizeof path, "%s/config.json", dir);
    SENTI_TRY(dump_json(cj, path, err));

    const wt_tok_config *t = &c->tok;
    json_t *tj = json_pack("{s:s, s:b, s:b, s:s, s:i, s:s, s:s, s:b, s:s, s:s, s:b}",
                           "cls_token", t->cls_token, "do_basic_tokenize", 1,
                           "do_lower_case", t->do_lower_case, "mask_token", t->mask_token,
                           "model_max_length", (json_int_t)t->max_length,
                           "pad_token", t->pad_token, "sep_token", t->sep_token,
                           "strip_accents", t->strip_accents, "tokenizer_class",
                           "DistilBertTokenizer", "unk_token", t->unk_token,
                           "tokenize_chinese_chars", t->tokenize_chinese_chars);
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    SENTI_TRY(dump_json(tj, path, err));

    snprintf(path, sizeof path, "%s/vocab.txt", dir);
    FILE *f = fopen(path, "wb");
    if (!f) return senti_fail(err, SENTI_E_IO, "weights: cannot create '%s': %s", path,
                              strerror(errno));
    int ok = 1;
    for (uint32_t i = 0; ok && i < wt_model_vocab_size(m); i++)
        ok = fprintf(f, "%s\n", wt_model_vocab_token(m, i)) >= 0;
    if (fclose(f) != 0 || !ok)
        return senti_fail(err, SENTI_E_IO, "weights: writing '%s' failed", path);

    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    SENTI_TRY(wt_st_write_model(m, path, err));
    return SENTI_OK;
fail:
    return st;
}
