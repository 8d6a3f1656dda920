/* tests/support/sst2_fixture.c - parse the sst2-mini reference logits fixture. */
#include "tests/support/sst2_fixture.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/testutil.h"

void tu_sst2_free(tu_sst2_row *rows, size_t n)
{
    if (!rows) return;
    for (size_t i = 0; i < n; i++) {
        free(rows[i].text);
        free(rows[i].ids);
    }
    free(rows);
}

tu_sst2_row *tu_sst2_read(uint32_t max_len, size_t *n)
{
    *n = 0;
    size_t count = 0;
    json_t **json = tu_read_jsonl(tu_shared_path("fixtures/sst2-mini/dev_logits.jsonl"), &count);
    if (!json || count == 0) {
        fprintf(stderr, "sst2 fixture: cannot read %s\n",
                tu_shared_path("fixtures/sst2-mini/dev_logits.jsonl"));
        free(json);
        return NULL;
    }
    tu_sst2_row *rows = calloc(count, sizeof *rows);
    int ok = rows != NULL;
    for (size_t i = 0; ok && i < count; i++) {
        json_t *j = json[i], *ids = json_object_get(j, "ids"), *lg = json_object_get(j, "logits");
        const char *text = json_string_value(json_object_get(j, "text"));
        tu_sst2_row *r = &rows[i];
        r->label = (int)json_integer_value(json_object_get(j, "label"));
        r->pred = (int)json_integer_value(json_object_get(j, "pred"));
        r->len = (uint32_t)json_array_size(ids);
        if (!text || r->len == 0 || r->len > max_len || json_array_size(lg) != 2) {
            fprintf(stderr, "sst2 fixture: row %zu is malformed or has %u ids (max %u)\n", i,
                    r->len, max_len);
            ok = 0;
            break;
        }
        r->text = strdup(text);
        r->ids = calloc(r->len, sizeof *r->ids);
        if (!r->text || !r->ids) {
            ok = 0;
            break;
        }
        for (uint32_t t = 0; t < r->len; t++)
            r->ids[t] = (int32_t)json_integer_value(json_array_get(ids, t));
        for (size_t k = 0; k < 2; k++) r->logits[k] = (float)json_real_value(json_array_get(lg, k));
    }
    for (size_t i = 0; i < count; i++) json_decref(json[i]);
    free(json);
    if (!ok) {
        tu_sst2_free(rows, count);
        return NULL;
    }
    *n = count;
    return rows;
}
