/* tokenizer/unicode.c - character classes exactly as the reference sees them.
 *
 * Unicode data comes from utf8proc (Unicode 15). The reference, Hugging Face
 * `tokenizers` 0.23.2, differs from current Unicode in one documented way: its
 * general categories (is_other, is_mark_nonspacing, is_punctuation) come from
 * the `unicode_categories` crate, whose tables are Unicode 8.0. So:
 *   - a code point not yet assigned in 8.0 has category Cn there (it is neither
 *     removed as a format character, nor stripped as a mark, nor punctuation);
 *   - the few code points whose category changed since 8.0 keep their 8.0
 *     category (table below).
 * Whitespace, lower-casing and NFD come from Rust's std / a normalization crate
 * with current data, which utf8proc matches. This was checked against the
 * reference on every code point (tests/tokenizer/test_differential.sh).
 */
#include <utf8proc.h>

#include "tokenizer/tokenizer_internal.h"

/* Category changes between Unicode 8.0 and 15.0 that change what the
 * tokenizer does with the character; value = the 8.0 category. */
static int cat_override(uint32_t cp)
{
    switch (cp) {
    case 0x166D: return UTF8PROC_CATEGORY_PO;  /* CANADIAN SYLLABICS CHI SIGN: So since 12.0 */
    case 0x1734: return UTF8PROC_CATEGORY_MN;  /* HANUNOO SIGN PAMUDPOD: Mc since 14.0 */
    case 0x1885:                               /* MONGOLIAN LETTER ALI GALI BALUDA, */
    case 0x1886: return UTF8PROC_CATEGORY_LO;  /* ... THREE BALUDA: Mn since 9.0 */
    case 0xA9BD: return UTF8PROC_CATEGORY_MC;  /* JAVANESE CONSONANT SIGN KERET: Mn since 12.0 */
    case 0x111C9: return UTF8PROC_CATEGORY_PO; /* SHARADA SANDHI MARK: Mn since 11.0 */
    default: return -1;
    }
}

static bool present_in_unicode8(uint32_t cp)
{
    uint32_t lo = 0, hi = tok_unicode8_nranges;
    while (lo < hi) { /* first range whose end is > cp */
        uint32_t mid = lo + (hi - lo) / 2;
        if (tok_unicode8_ranges[2 * mid + 1] <= cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < tok_unicode8_nranges && tok_unicode8_ranges[2 * lo] <= cp;
}

/* The general category in the reference's Unicode 8.0 tables. Only the
 * categories the tokenizer acts on (C*, Mn, P*) need the age check. */
static int category8(uint32_t cp)
{
    int o = cat_override(cp);
    if (o >= 0) return o;
    int c = utf8proc_category((utf8proc_int32_t)cp);
    switch (c) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
        return present_in_unicode8(cp) ? c : UTF8PROC_CATEGORY_CN;
    default:
        return c;
    }
}

bool tok_uni_is_removed(uint32_t cp)
{
    if (cp == 0 || cp == 0xFFFD) return true;
    if (cp == '\t' || cp == '\n' || cp == '\r') return false;
    switch (category8(cp)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CS:
        return true;
    default:
        return false;
    }
}

bool tok_uni_is_space(uint32_t cp)
{
    switch (cp) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20:
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
    case 0x202F: case 0x205F: case 0x3000:
        return true;
    default:
        return cp >= 0x2000 && cp <= 0x200A;
    }
}

bool tok_uni_is_cjk(uint32_t cp)
{
    /* The Rust BertNormalizer's ranges. Note 0x2B920 (not 0x2B820 as in the
     * Python BertTokenizer): U+2B820..U+2B91F are ordinary word characters. */
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
           (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

bool tok_uni_is_mn(uint32_t cp)
{
    return category8(cp) == UTF8PROC_CATEGORY_MN;
}

bool tok_uni_is_punct(uint32_t cp)
{
    if (cp < 0x80)
        return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
               (cp >= 123 && cp <= 126);
    switch (category8(cp)) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
        return true;
    default:
        return false;
    }
}

int tok_uni_ccc(uint32_t cp)
{
    return utf8proc_get_property((utf8proc_int32_t)cp)->combining_class;
}

int tok_uni_nfd(uint32_t cp, uint32_t *out, int cap)
{
    int last_boundclass = 0;
    utf8proc_ssize_t n = utf8proc_decompose_char((utf8proc_int32_t)cp, (utf8proc_int32_t *)out,
                                                 cap, UTF8PROC_DECOMPOSE, &last_boundclass);
    if (n < 1 || n > cap) { /* cannot happen for valid scalars (max 4); keep cp */
        out[0] = cp;
        return 1;
    }
    return (int)n;
}

int tok_uni_lower(uint32_t cp, uint32_t *out)
{
    if (cp == 0x130) { /* the one unconditional multi-character lower-case mapping */
        out[0] = 0x69;
        out[1] = 0x307;
        return 2;
    }
    out[0] = (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp);
    return 1;
}
