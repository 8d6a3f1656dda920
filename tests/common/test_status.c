/* tests/common/test_status.c - status table, error formatting, allocation hook. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "common/alloc.h"
#include "common/status.h"

static void test_names_and_messages(void **state)
{
    (void)state;
    assert_string_equal(senti_status_name(SENTI_OK), "SENTI_OK");
    assert_string_equal(senti_status_name(SENTI_E_CHECKSUM), "SENTI_E_CHECKSUM");
    assert_string_equal(senti_status_message(SENTI_E_CHECKSUM), "checksum mismatch");
    assert_string_equal(senti_status_name((senti_status)9999), "SENTI_E_UNKNOWN");
}

static void test_fail_and_prefix(void **state)
{
    (void)state;
    senti_err err = {0};
    assert_int_equal(senti_fail(&err, SENTI_E_IO, "open '%s': %s", "x.senti", "No such file"),
                     SENTI_E_IO);
    assert_int_equal(err.code, SENTI_E_IO);
    assert_string_equal(err.msg, "open 'x.senti': No such file");
    senti_err_prefix(&err, "weights");
    assert_string_equal(err.msg, "weights: open 'x.senti': No such file");
    assert_int_equal(senti_fail(NULL, SENTI_E_NOMEM, "ignored"), SENTI_E_NOMEM);
}

static void test_alloc_fail_after(void **state)
{
    (void)state;
    senti_alloc_fail_after(2);
    void *a = senti_malloc(8), *b = senti_malloc(8), *c = senti_malloc(8);
    assert_non_null(a);
    assert_non_null(b);
    assert_null(c);
    senti_alloc_fail_after(-1);
    void *d = senti_alloc_aligned(100);
    assert_non_null(d);
    assert_int_equal((uintptr_t)d % 64, 0);
    senti_free(a);
    senti_free(b);
    senti_free_aligned(d);
    size_t out = 0;
    assert_false(senti_mul_size(SIZE_MAX / 2, 3, &out));
    assert_true(senti_mul_size(1000, 1000, &out));
    assert_int_equal(out, 1000000);
    assert_null(senti_calloc(SIZE_MAX / 2, 4));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_messages),
        cmocka_unit_test(test_fail_and_prefix),
        cmocka_unit_test(test_alloc_fail_after),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
