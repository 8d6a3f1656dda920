/* net/metrics.c - a small Prometheus registry: counters, gauges and histograms
 * with up to NET_METRIC_MAX_LABELS labels, rendered in the text exposition
 * format 0.0.4. One mutex guards the whole registry; updates are a short
 * linear scan over the family's series (a handful per family).
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "net/net_internal.h"

typedef struct series {
    char *values[NET_METRIC_MAX_LABELS];
    double value; /* counter/gauge */
    double sum;   /* histogram */
    uint64_t count;
    uint64_t buckets[NET_METRIC_MAX_BUCKETS + 1]; /* per bucket (not cumulative), last = +Inf */
    struct series *next;
} series;

struct net_metric {
    net_metrics *reg;
    net_metric_type type;
    char *name, *help;
    uint32_t n_labels, n_buckets;
    char *label_names[NET_METRIC_MAX_LABELS];
    double bounds[NET_METRIC_MAX_BUCKETS];
    series *first, *last;
    struct net_metric *next;
};

struct net_metrics {
    pthread_mutex_t mu;
    net_metric *first, *last;
};

net_metrics *net_metrics_create(void)
{
    net_metrics *m = senti_calloc(1, sizeof *m);
    if (!m) return NULL;
    pthread_mutex_init(&m->mu, NULL);
    return m;
}

static void series_free(series *s, uint32_t n_labels)
{
    for (uint32_t i = 0; i < n_labels; i++) senti_free(s->values[i]);
    senti_free(s);
}

static void family_free(net_metric *f)
{
    for (series *s = f->first, *n; s; s = n) {
        n = s->next;
        series_free(s, f->n_labels);
    }
    for (uint32_t i = 0; i < f->n_labels; i++) senti_free(f->label_names[i]);
    senti_free(f->name);
    senti_free(f->help);
    senti_free(f);
}

void net_metrics_free(net_metrics *m)
{
    if (!m) return;
    for (net_metric *f = m->first, *n; f; f = n) {
        n = f->next;
        family_free(f);
    }
    pthread_mutex_destroy(&m->mu);
    senti_free(m);
}

static bool valid_name(const char *s)
{
    if (!s || !*s || (*s >= '0' && *s <= '9')) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == ':'))
            return false;
    return true;
}

net_metric *net_metrics_add(net_metrics *m, net_metric_type type, const char *name,
                            const char *help, uint32_t n_labels, const char *const *label_names,
                            const double *buckets, uint32_t n_buckets)
{
    if (!valid_name(name) || n_labels > NET_METRIC_MAX_LABELS) return NULL;
    if (type == NET_METRIC_HISTOGRAM) {
        if (n_buckets == 0 || n_buckets > NET_METRIC_MAX_BUCKETS) return NULL;
        for (uint32_t i = 0; i < n_buckets; i++)
            if (!isfinite(buckets[i]) || (i && buckets[i] <= buckets[i - 1])) return NULL;
    }
    for (uint32_t i = 0; i < n_labels; i++)
        if (!valid_name(label_names[i]) || !strcmp(label_names[i], "le")) return NULL;
    net_metric *f = senti_calloc(1, sizeof *f);
    if (!f) return NULL;
    f->reg = m;
    f->type = type;
    f->name = senti_strdup(name);
    f->help = senti_strdup(help ? help : "");
    f->n_labels = n_labels;
    bool ok = f->name && f->help;
    for (uint32_t i = 0; i < n_labels; i++) ok = (f->label_names[i] = senti_strdup(label_names[i])) && ok;
    if (!ok) {
        family_free(f);
        return NULL;
    }
    if (type == NET_METRIC_HISTOGRAM) {
        f->n_buckets = n_buckets;
        memcpy(f->bounds, buckets, n_buckets * sizeof *buckets);
    }
    pthread_mutex_lock(&m->mu);
    if (m->last) m->last->next = f;
    else m->first = f;
    m->last = f;
    pthread_mutex_unlock(&m->mu);
    return f;
}

/* Finds or creates the series; caller holds the lock. NULL on OOM. */
static series *get_series(net_metric *f, const char *const *vals)
{
    for (series *s = f->first; s; s = s->next) {
        uint32_t i = 0;
        while (i < f->n_labels && !strcmp(s->values[i], vals[i] ? vals[i] : "")) i++;
        if (i == f->n_labels) return s;
    }
    series *s = senti_calloc(1, sizeof *s);
    if (!s) return NULL;
    for (uint32_t i = 0; i < f->n_labels; i++) {
        s->values[i] = senti_strdup(vals[i] ? vals[i] : "");
        if (!s->values[i]) {
            series_free(s, f->n_labels);
            return NULL;
        }
    }
    if (f->last) f->last->next = s;
    else f->first = s;
    f->last = s;
    return s;
}

void net_metric_inc(net_metric *f, const char *const *label_values, double v)
{
    if (!f) return;
    pthread_mutex_lock(&f->reg->mu);
    series *s = get_series(f, label_values);
    if (s) s->value += v;
    pthread_mutex_unlock(&f->reg->mu);
}

void net_metric_set(net_metric *f, const char *const *label_values, double v)
{
    if (!f) return;
    pthread_mutex_lock(&f->reg->mu);
    series *s = get_series(f, label_values);
    if (s) s->value = v;
    pthread_mutex_unlock(&f->reg->mu);
}

void net_metric_observe(net_metric *f, const char *const *label_values, double v)
{
    if (!f || f->type != NET_METRIC_HISTOGRAM || isnan(v)) return;
    pthread_mutex_lock(&f->reg->mu);
    series *s = get_series(f, label_values);
    if (s) {
        uint32_t b = 0;
        while (b < f->n_buckets && v > f->bounds[b]) b++;
        s->buckets[b]++;
        s->count++;
        s->sum += v;
    }
    pthread_mutex_unlock(&f->reg->mu);
}

double net_metric_value(net_metric *f, const char *const *label_values)
{
    double v = 0;
    pthread_mutex_lock(&f->reg->mu);
    for (series *s = f->first; s; s = s->next) {
        uint32_t i = 0;
        while (i < f->n_labels && !strcmp(s->values[i], label_values[i])) i++;
        if (i == f->n_labels) {
            v = f->type == NET_METRIC_HISTOGRAM ? (double)s->count : s->value;
            break;
        }
    }
    pthread_mutex_unlock(&f->reg->mu);
    return v;
}

static void put_number(net_sb *out, double v)
{
    if (isnan(v)) net_sb_puts(out, "NaN");
    else if (isinf(v)) net_sb_puts(out, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 1e15) net_sb_printf(out, "%.0f", v);
    else net_sb_printf(out, "%.17g", v);
}

/* Label value escaping: backslash, double quote and newline. */
static void put_label_value(net_sb *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\') net_sb_puts(out, "\\\\");
        else if (*v == '"') net_sb_puts(out, "\\\"");
        else if (*v == '\n') net_sb_puts(out, "\\n");
        else net_sb_append(out, v, 1);
    }
}

/* HELP text escaping: backslash and newline. */
static void put_help(net_sb *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\') net_sb_puts(out, "\\\\");
        else if (*v == '\n') net_sb_puts(out, "\\n");
        else net_sb_append(out, v, 1);
    }
}

/* {a="x",b="y"[,le="..."]} or nothing when there are no labels. */
static void put_labels(net_sb *out, const net_metric *f, const series *s, const char *le)
{
    if (f->n_labels == 0 && !le) return;
    net_sb_puts(out, "{");
    for (uint32_t i = 0; i < f->n_labels; i++) {
        net_sb_printf(out, "%s%s=\"", i ? "," : "", f->label_names[i]);
        put_label_value(out, s->values[i]);
        net_sb_puts(out, "\"");
    }
    if (le) net_sb_printf(out, "%sle=\"%s\"", f->n_labels ? "," : "", le);
    net_sb_puts(out, "}");
}

static void render_series(net_sb *out, const net_metric *f, const series *s)
{
    if (f->type != NET_METRIC_HISTOGRAM) {
        net_sb_puts(out, f->name);
        put_labels(out, f, s, NULL);
        net_sb_puts(out, " ");
        put_number(out, s->value);
        net_sb_puts(out, "\n");
        return;
    }
    uint64_t cum = 0;
    for (uint32_t b = 0; b <= f->n_buckets; b++) {
        char le[40];
        if (b < f->n_buckets) snprintf(le, sizeof le, "%.10g", f->bounds[b]);
        else snprintf(le, sizeof le, "+Inf");
        cum += s->buckets[b];
        net_sb_printf(out, "%s_bucket", f->name);
        put_labels(out, f, s, le);
        net_sb_printf(out, " %llu\n", (unsigned long long)cum);
    }
    net_sb_printf(out, "%s_sum", f->name);
    put_labels(out, f, s, NULL);
    net_sb_puts(out, " ");
    put_number(out, s->sum);
    net_sb_printf(out, "\n%s_count", f->name);
    put_labels(out, f, s, NULL);
    net_sb_printf(out, " %llu\n", (unsigned long long)s->count);
}

bool net_metrics_render(net_metrics *m, net_sb *out)
{
    static const char *const type_names[] = {"counter", "gauge", "histogram"};
    pthread_mutex_lock(&m->mu);
    for (net_metric *f = m->first; f; f = f->next) {
        net_sb_printf(out, "# HELP %s ", f->name);
        put_help(out, f->help);
        net_sb_printf(out, "\n# TYPE %s %s\n", f->name, type_names[f->type]);
        if (!f->first && f->n_labels == 0) {
            series zero = {0}; /* an unlabelled family always has its one series */
            render_series(out, f, &zero);
        }
        for (series *s = f->first; s; s = s->next) render_series(out, f, s);
    }
    pthread_mutex_unlock(&m->mu);
    return !out->oom;
}
