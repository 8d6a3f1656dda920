/* cfg/yaml.c - reads one YAML file with libyaml's document API and applies it
 * key by key onto a cfg_config (so base.yaml + <env>.yaml is a deep merge:
 * the overlay wins per key; a list in the overlay replaces the whole list).
 *
 * Every error names the file, the line and the dotted key. libyaml accepts
 * duplicate mapping keys; we reject them with both line numbers. */
#include "cfg/cfg_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "common/alloc.h"

typedef struct yctx {
    cfg_config *c;
    const char *file;
    const char *text; /* whole file, for pointing at tabs */
    bool allow_secrets;
    yaml_document_t *doc;
    senti_err *err;
} yctx;

static size_t line_of(const yaml_node_t *n) { return n->start_mark.line + 1; }

static const char *kind_name(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE: return "a mapping";
    case YAML_SEQUENCE_NODE: return "a list";
    default: return "a scalar";
    }
}

static const char *scalar(const yaml_node_t *n) { return (const char *)n->data.scalar.value; }

/* A plain empty / "~" / "null" scalar. */
static bool is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *s = scalar(n);
    return !*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
           strcmp(s, "NULL") == 0;
}

static bool line_has_tab(const char *text, size_t line)
{
    const char *p = text;
    for (size_t l = 1; l < line && p; l++) {
        p = strchr(p, '\n');
        if (p) p++;
    }
    if (!p) return false;
    const char *end = strchr(p, '\n');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    return memchr(p, '\t', n) != NULL;
}

/* Distinct child names under `prefix` ("" = top level), for suggestions. */
static size_t child_names(const char *prefix, char names[][48], size_t cap)
{
    size_t n = 0, pl = strlen(prefix);
    for (size_t i = 0; i < cfg_nkeys; i++) {
        const char *p = cfg_keys[i].path;
        if (pl) {
            if (strncmp(p, prefix, pl) != 0 || p[pl] != '.') continue;
            p += pl + 1;
        }
        size_t len = strcspn(p, ".");
        if (len >= 48) continue;
        bool seen = false;
        for (size_t j = 0; j < n && !seen; j++)
            seen = strlen(names[j]) == len && strncmp(names[j], p, len) == 0;
        if (!seen && n < cap) {
            memcpy(names[n], p, len);
            names[n][len] = '\0';
            n++;
        }
    }
    return n;
}

static bool is_section(const char *path)
{
    size_t pl = strlen(path);
    for (size_t i = 0; i < cfg_nkeys; i++)
        if (strncmp(cfg_keys[i].path, path, pl) == 0 && cfg_keys[i].path[pl] == '.') return true;
    return false;
}

static senti_status apply_leaf(yctx *y, size_t ki, const char *path, const yaml_node_t *key,
                               const yaml_node_t *val)
{
    const cfg_key *k = &cfg_keys[ki];
    size_t line = line_of(key);
    char why[CFG_WHY_MAX];
    senti_status st;
    if (k->type == CFG_T_LIST) {
        if (val->type != YAML_SEQUENCE_NODE && !is_null(val))
            return senti_fail(y->err, SENTI_E_CONFIG, "cfg: %s:%zu: %s: must be a list (got %s)",
                              y->file, line, path, kind_name(val));
        size_t n = 0;
        const char **items = NULL;
        if (val->type == YAML_SEQUENCE_NODE) {
            yaml_node_item_t *it = val->data.sequence.items.start;
            n = (size_t)(val->data.sequence.items.top - it);
            items = senti_calloc(n ? n : 1, sizeof *items);
            if (!items) return senti_fail(y->err, SENTI_E_NOMEM, "cfg: out of memory");
            for (size_t j = 0; j < n; j++) {
                yaml_node_t *item = yaml_document_get_node(y->doc, it[j]);
                if (item->type != YAML_SCALAR_NODE) {
                    senti_free(items);
                    return senti_fail(y->err, SENTI_E_CONFIG,
                                      "cfg: %s:%zu: %s: item %zu: must be a string (got %s)",
                                      y->file, line_of(item), path, j + 1, kind_name(item));
                }
                items[j] = scalar(item);
            }
        }
        if (n > 0 && k->secret && !y->allow_secrets) {
            senti_free(items);
            return senti_fail(y->err, SENTI_E_CONFIG,
                              "cfg: %s:%zu: %s: secrets are not allowed in config files outside "
                              "dev; set %s",
                              y->file, line, path, cfg_secret_sources(ki));
        }
        size_t bad;
        st = cfg_key_set_list(y->c, ki, items, n, &bad, why, sizeof why);
        if (st != SENTI_OK && bad != SIZE_MAX) {
            yaml_node_t *item = yaml_document_get_node(y->doc, val->data.sequence.items.start[bad]);
            line = line_of(item);
        }
        senti_free(items);
    } else {
        if (val->type != YAML_SCALAR_NODE)
            return senti_fail(y->err, SENTI_E_CONFIG, "cfg: %s:%zu: %s: must be a scalar (got %s)",
                              y->file, line, path, kind_name(val));
        const char *text = (k->type == CFG_T_STR && is_null(val)) ? "" : scalar(val);
        if (*text && k->secret && !y->allow_secrets)
            return senti_fail(y->err, SENTI_E_CONFIG,
                              "cfg: %s:%zu: %s: secrets are not allowed in config files outside "
                              "dev; set %s",
                              y->file, line, path, cfg_secret_sources(ki));
        st = cfg_key_set_text(y->c, ki, text, why, sizeof why);
    }
    if (st != SENTI_OK) return senti_fail(y->err, st, "cfg: %s:%zu: %s: %s", y->file, line, path, why);
    cfg_set_origin(y->c, ki, "%s:%zu", y->file, line_of(key));
    return SENTI_OK;
}

static senti_status walk_mapping(yctx *y, const yaml_node_t *map, const char *prefix)
{
    yaml_node_pair_t *pairs = map->data.mapping.pairs.start;
    size_t n = (size_t)(map->data.mapping.pairs.top - pairs);
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *key = yaml_document_get_node(y->doc, pairs[i].key);
        yaml_node_t *val = yaml_document_get_node(y->doc, pairs[i].value);
        if (key->type != YAML_SCALAR_NODE)
            return senti_fail(y->err, SENTI_E_CONFIG, "cfg: %s:%zu: %s%skey must be a string",
                              y->file, line_of(key), prefix, *prefix ? ": " : "");
        const char *name = scalar(key);
        char path[256];
        int pn = snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", name);
        if (pn < 0 || (size_t)pn >= sizeof path)
            return senti_fail(y->err, SENTI_E_CONFIG, "cfg: %s:%zu: key is too long", y->file,
                              line_of(key));
        for (size_t j = 0; j < i; j++) {
            yaml_node_t *prev = yaml_document_get_node(y->doc, pairs[j].key);
            if (prev->type == YAML_SCALAR_NODE && strcmp(scalar(prev), name) == 0)
                return senti_fail(y->err, SENTI_E_CONFIG,
                                  "cfg: %s:%zu: %s: duplicate key (first at line %zu)", y->file,
                                  line_of(key), path, line_of(prev));
        }
        int ki = cfg_key_index(path);
        senti_status st;
        if (ki >= 0) {
            st = apply_leaf(y, (size_t)ki, path, key, val);
        } else if (is_section(path)) {
            if (is_null(val)) continue; /* "server:" with nothing under it */
            if (val->type != YAML_MAPPING_NODE)
                return senti_fail(y->err, SENTI_E_CONFIG,
                                  "cfg: %s:%zu: %s: must be a mapping (got %s)", y->file,
                                  line_of(key), path, kind_name(val));
            st = walk_mapping(y, val, path);
        } else {
            char names[CFG_KEYS_MAX][48];
            const char *cands[CFG_KEYS_MAX];
            size_t nc = child_names(prefix, names, CFG_KEYS_MAX);
            for (size_t j = 0; j < nc; j++) cands[j] = names[j];
            const char *s = cfg_suggest(name, cands, nc);
            if (s)
                return senti_fail(y->err, SENTI_E_CONFIG,
                                  "cfg: %s:%zu: %s: unknown key (did you mean %s%s%s?)", y->file,
                                  line_of(key), path, prefix, *prefix ? "." : "", s);
            return senti_fail(y->err, SENTI_E_CONFIG, "cfg: %s:%zu: %s: unknown key", y->file,
                              line_of(key), path);
        }
        if (st != SENTI_OK) return st;
    }
    return SENTI_OK;
}

static senti_status syntax_error(yctx *y, const yaml_parser_t *p)
{
    size_t line = p->problem_mark.line + 1;
    const char *hint = line_has_tab(y->text, line) ? " (tabs are not allowed; indent with spaces)"
                                                   : "";
    if (p->error == YAML_MEMORY_ERROR) return senti_fail(y->err, SENTI_E_NOMEM, "cfg: out of memory");
    if (p->context)
        return senti_fail(y->err, SENTI_E_CONFIG, "cfg: %s:%zu: invalid YAML: %s %s%s", y->file,
                          line, p->problem ? p->problem : "syntax error", p->context, hint);
    return senti_fail(y->err, SENTI_E_CONFIG, "cfg: %s:%zu: invalid YAML: %s%s", y->file, line,
                      p->problem ? p->problem : "syntax error", hint);
}

senti_status cfg_yaml_apply(cfg_config *c, const char *path, bool allow_secrets, senti_err *err)
{
    char *text = NULL;
    size_t len = 0;
    int e = cfg_read_file(path, CFG_FILE_MAX, &text, &len);
    if (e == EFBIG)
        return senti_fail(err, SENTI_E_CONFIG, "cfg: %s: larger than %u bytes", path, CFG_FILE_MAX);
    if (e == ENOMEM) return senti_fail(err, SENTI_E_NOMEM, "cfg: out of memory");
    if (e)
        return senti_fail(err, SENTI_E_CONFIG,
                          "cfg: %s: cannot read: %s (set --config-dir or SENTI_CONFIG_DIR)", path,
                          strerror(e));
    yctx y = {.c = c, .file = path, .text = text, .allow_secrets = allow_secrets, .err = err};
    yaml_parser_t p;
    yaml_document_t doc, extra;
    senti_status st = SENTI_OK;
    if (!yaml_parser_initialize(&p)) {
        senti_free(text);
        return senti_fail(err, SENTI_E_NOMEM, "cfg: out of memory");
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    if (!yaml_parser_load(&p, &doc)) {
        st = syntax_error(&y, &p);
        goto out_parser;
    }
    y.doc = &doc;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root) {
        /* A second document would be silently ignored: refuse it. */
        if (!yaml_parser_load(&p, &extra)) {
            st = syntax_error(&y, &p);
            goto out_doc;
        }
        yaml_node_t *root2 = yaml_document_get_root_node(&extra);
        size_t line2 = root2 ? line_of(root2) : 0;
        yaml_document_delete(&extra);
        if (root2) {
            st = senti_fail(err, SENTI_E_CONFIG,
                            "cfg: %s:%zu: more than one YAML document; keep one per file", path,
                            line2);
            goto out_doc;
        }
        if (root->type == YAML_MAPPING_NODE) st = walk_mapping(&y, root, "");
        else if (!is_null(root))
            st = senti_fail(err, SENTI_E_CONFIG,
                            "cfg: %s:%zu: top level must be a mapping of sections (server:, "
                            "model:, ...) (got %s)",
                            path, line_of(root), kind_name(root));
    }
out_doc:
    yaml_document_delete(&doc);
out_parser:
    yaml_parser_delete(&p);
    if (text) explicit_bzero(text, len); /* dev files may hold secrets */
    senti_free(text);
    return st;
}
