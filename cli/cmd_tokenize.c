/* cli/cmd_tokenize.c - `senti tokenize`: WordPiece ids and tokens for each
 * stdin line (plain text, or one JSON string per line with --jsonl).
 * One {"ids":[..],"tokens":[..]} per input line on stdout; a bad line gets
 * {"error":".."} (so output lines stay aligned with input lines), a message on
 * stderr naming the line, and exit status 1 at the end. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/limits.h"
#include "tokenizer/tokenizer.h"
#include "weights/weights.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: senti tokenize (--model FILE.senti | --vocab vocab.txt) [--jsonl]\n"
            "                      [--max-length N]\n\n"
            "Tokenizes each line of stdin as the Hugging Face BERT uncased tokenizer does.\n"
            "  --model FILE     vocabulary and tokenizer settings from a .senti file\n"
            "  --vocab FILE     a vocab.txt (one token per line), uncased BERT settings\n"
            "  --jsonl          each stdin line is a JSON string (\"...\"), not plain text\n"
            "  --max-length N   truncate to N ids incl. [CLS] and [SEP] (default: the\n"
            "                   model's maximum, 512 for --vocab; never above the model's)\n"
            "Prints one line per input: {\"ids\":[..],\"tokens\":[..]} or {\"error\":\"..\"}.\n"
            "Exit status: 0 all lines ok, 1 some line failed, 2 usage error.\n");
}

/* Growable output line. */
typedef struct obuf {
    char *p;
    size_t n, cap;
} obuf;

static void ob_need(obuf *b, size_t more)
{
    if (b->n + more <= b->cap) return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + more) cap *= 2;
    char *np = realloc(b->p, cap);
    if (!np) {
        fprintf(stderr, "senti tokenize: out of memory\n");
        abort(); /* main-level tool; nothing sensible to continue with */
    }
    b->p = np;
    b->cap = cap;
}

static void ob_put(obuf *b, const char *s, size_t n)
{
    ob_need(b, n);
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static void ob_str(obuf *b, const char *s)
{
    ob_put(b, s, strlen(s));
}

/* JSON string literal; UTF-8 is copied as is, controls, quote and backslash escaped. */
static void ob_json_string(obuf *b, const char *s, size_t n)
{
    ob_need(b, n * 6 + 2);
    char *o = b->p + b->n;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c < 0x20 || c == 0x7F) {
            static const char hex[] = "0123456789abcdef";
            switch (c) {
            case '\n': *o++ = '\\'; *o++ = 'n'; break;
            case '\t': *o++ = '\\'; *o++ = 't'; break;
            case '\r': *o++ = '\\'; *o++ = 'r'; break;
            default:
                memcpy(o, "\\u00", 4);
                o[4] = hex[c >> 4];
                o[5] = hex[c & 15];
                o += 6;
            }
        } else {
            *o++ = (char)c;
        }
    }
    *o++ = '"';
    b->n = (size_t)(o - b->p);
}

static void ob_error_line(obuf *b, const char *msg)
{
    b->n = 0;
    ob_str(b, "{\"error\":");
    ob_json_string(b, msg, strlen(msg));
    ob_str(b, "}\n");
}

static void ob_encoding(obuf *b, const tok_tokenizer *tok, const int32_t *ids, uint32_t n)
{
    char num[16];
    b->n = 0;
    ob_str(b, "{\"ids\":[");
    for (uint32_t i = 0; i < n; i++) {
        int k = snprintf(num, sizeof num, i ? ",%d" : "%d", (int)ids[i]);
        ob_put(b, num, (size_t)k);
    }
    ob_str(b, "],\"tokens\":[");
    for (uint32_t i = 0; i < n; i++) {
        if (i) ob_put(b, ",", 1);
        const char *t = tok_id_to_token(tok, ids[i]);
        ob_json_string(b, t, strlen(t));
    }
    ob_str(b, "]}\n");
}

int cli_cmd_tokenize(int argc, char **argv)
{
    const char *model_path = NULL, *vocab_path = NULL;
    bool jsonl = false;
    long max_len = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--jsonl")) {
            jsonl = true;
        } else if ((!strcmp(a, "--model") || !strcmp(a, "--vocab") || !strcmp(a, "--max-length")) &&
                   i + 1 < argc) {
            const char *v = argv[++i];
            if (!strcmp(a, "--model")) {
                model_path = v;
            } else if (!strcmp(a, "--vocab")) {
                vocab_path = v;
            } else {
                char *end;
                max_len = strtol(v, &end, 10);
                if (*v == '\0' || *end != '\0' || max_len < 2 || max_len > SENTI_MAX_POSITIONS) {
                    fprintf(stderr, "senti tokenize: --max-length: '%s' is not in 2..%d\n", v,
                            SENTI_MAX_POSITIONS);
                    return 2;
                }
            }
        } else {
            fprintf(stderr, "senti tokenize: unknown or incomplete option '%s'\n\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!model_path == !vocab_path) {
        fprintf(stderr, "senti tokenize: give exactly one of --model or --vocab\n\n");
        usage(stderr);
        return 2;
    }

    senti_err err = {0};
    tok_tokenizer *tok = NULL;
    if (model_path) {
        wt_model *m = NULL;
        if (wt_model_load(model_path, &m, &err) != SENTI_OK) {
            fprintf(stderr, "senti tokenize: %s\n", err.msg);
            return 1;
        }
        senti_status st = tok_create_from_model(m, &tok, &err);
        wt_model_free(m);
        if (st != SENTI_OK) {
            fprintf(stderr, "senti tokenize: %s\n", err.msg);
            return 1;
        }
    } else {
        tok_options opt = tok_options_default();
        if (max_len) opt.max_length = (uint32_t)max_len;
        if (tok_create_from_vocab_file(vocab_path, &opt, &tok, &err) != SENTI_OK) {
            fprintf(stderr, "senti tokenize: %s\n", err.msg);
            return 1;
        }
    }
    uint32_t cap = tok_max_length(tok);
    if (max_len && (uint32_t)max_len < cap) cap = (uint32_t)max_len;
    int32_t *ids = malloc((size_t)cap * sizeof *ids);
    if (!ids) {
        fprintf(stderr, "senti tokenize: out of memory\n");
        tok_free(tok);
        return 1;
    }

    static char outbuf[1 << 16];
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    obuf ob = {0};
    char *line = NULL, msg[SENTI_ERR_MSG_MAX + 64];
    size_t line_cap = 0;
    ssize_t got;
    unsigned long lineno = 0, failed = 0;
    while ((got = getline(&line, &line_cap, stdin)) >= 0) {
        lineno++;
        size_t n = (size_t)got;
        if (n && line[n - 1] == '\n') n--;
        size_t bad;
        json_t *js = NULL;
        const char *text = line;
        size_t text_len = n;
        if (tok_utf8_validate(line, n, &bad) != SENTI_OK) {
            snprintf(msg, sizeof msg, "invalid UTF-8 at byte offset %zu", bad);
            goto bad_line;
        }
        if (jsonl) {
            json_error_t jerr;
            js = json_loadb(line, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
            if (!js || !json_is_string(js)) {
                if (js)
                    snprintf(msg, sizeof msg, "invalid JSON: expected a string");
                else
                    snprintf(msg, sizeof msg, "invalid JSON: %s at column %d", jerr.text,
                             jerr.column);
                goto bad_line;
            }
            text = json_string_value(js);
            text_len = json_string_length(js);
        }
        tok_encoding enc;
        if (tok_encode(tok, text, text_len, ids, cap, &enc, &err) != SENTI_OK) {
            /* drop the library's "tokenizer: " prefix: the line number says where */
            const char *m = strncmp(err.msg, "tokenizer: ", 11) ? err.msg : err.msg + 11;
            snprintf(msg, sizeof msg, "%s", m);
            goto bad_line;
        }
        ob_encoding(&ob, tok, ids, enc.n);
        fwrite(ob.p, 1, ob.n, stdout);
        json_decref(js);
        continue;
    bad_line:
        failed++;
        fflush(stdout); /* keep stdout and stderr in order when both go to a terminal */
        fprintf(stderr, "senti tokenize: line %lu: %s\n", lineno, msg);
        ob_error_line(&ob, msg);
        fwrite(ob.p, 1, ob.n, stdout);
        json_decref(js);
    }
    int rc = failed ? 1 : 0;
    if (ferror(stdin)) {
        fprintf(stderr, "senti tokenize: error reading stdin\n");
        rc = 1;
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "senti tokenize: error writing stdout\n");
        rc = 1;
    }
    free(line);
    free(ob.p);
    free(ids);
    tok_free(tok);
    return rc;
}
