/* endpoint: a `--listen` or `--coordinator` argument is tcp://HOST:PORT.
 * Bindable endpoints may say port 0 ("any free port", which ZeroMQ spells
 * "*"); endpoints to connect to need a real port. A bad argument is
 * refused with a message that quotes it. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "endpoint.h"
#include "err.h"

static char s_out[128], s_err[256];

static int s_bind(const char *ep)
{
    memset(s_out, 0, sizeof s_out);
    snprintf(s_err, sizeof s_err, "untouched");
    return weir_endpoint_bindable(ep, s_out, sizeof s_out, s_err, sizeof s_err);
}

static int s_check(const char *ep)
{
    snprintf(s_err, sizeof s_err, "untouched");
    return weir_endpoint_check(ep, s_err, sizeof s_err);
}

static void a_bindable_endpoint_is_written_back_as_given(void)
{
    CU_ASSERT_EQUAL(s_bind("tcp://127.0.0.1:6510"), 0);
    CU_ASSERT_STRING_EQUAL(s_out, "tcp://127.0.0.1:6510");
    CU_ASSERT_EQUAL(s_bind("tcp://*:65535"), 0);
    CU_ASSERT_STRING_EQUAL(s_out, "tcp://*:65535");
    CU_ASSERT_EQUAL(s_bind("tcp://node-1.example.org:1"), 0);
    CU_ASSERT_STRING_EQUAL(s_out, "tcp://node-1.example.org:1");
    /* IPv6 hosts hold colons: the port is after the last one. */
    CU_ASSERT_EQUAL(s_bind("tcp://[::1]:7000"), 0);
    CU_ASSERT_STRING_EQUAL(s_out, "tcp://[::1]:7000");
}

static void port_zero_binds_any_free_port(void)
{
    CU_ASSERT_EQUAL(s_bind("tcp://127.0.0.1:0"), 0);
    CU_ASSERT_STRING_EQUAL(s_out, "tcp://127.0.0.1:*");
    /* ...but there is nothing to connect to at port 0. */
    CU_ASSERT_EQUAL(s_check("tcp://127.0.0.1:0"), WEIR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(s_err, "tcp://127.0.0.1:0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s_err, "port 0"));
}

static void an_endpoint_to_connect_to_needs_host_and_port(void)
{
    CU_ASSERT_EQUAL(s_check("tcp://127.0.0.1:6510"), 0);
    CU_ASSERT_STRING_EQUAL(s_err, "untouched");
    CU_ASSERT_EQUAL(s_check("tcp://coordinator:1"), 0);
    CU_ASSERT_EQUAL(s_check("tcp://coordinator"), WEIR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(s_err, "tcp://HOST:PORT"));
    CU_ASSERT_EQUAL(s_check("tcp://:6510"), WEIR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(s_err, "'tcp://:6510'"));
}

static void other_transports_and_bare_addresses_are_refused(void)
{
    static const char *bad[] = {
        "",          "127.0.0.1:6510", "udp://127.0.0.1:6510", "ipc:///tmp/weir.sock", "inproc://x",
        "TCP://h:1", "tcp:/h:1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT_EQUAL(s_bind(bad[i]), WEIR_EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(s_err, "tcp://HOST:PORT"));
        CU_ASSERT_EQUAL(s_check(bad[i]), WEIR_EINVAL);
    }
}

static void a_port_must_be_a_number_from_0_to_65535(void)
{
    static const char *bad[] = {"tcp://h:",   "tcp://h:65536", "tcp://h:99999999999999999999",
                                "tcp://h:-1", "tcp://h:80x",   "tcp://h:http",
                                "tcp://h:*"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT_EQUAL(s_bind(bad[i]), WEIR_EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(s_err, bad[i]));
        CU_ASSERT_EQUAL(s_check(bad[i]), WEIR_EINVAL);
    }
    CU_ASSERT_EQUAL(s_bind("tcp://h:65535"), 0);
}

static void a_port_is_digits_only(void)
{
    /* strtol would take these; ZeroMQ would not, and "-0" would silently
     * bind a random port. */
    static const char *bad[] = {"tcp://h: 80", "tcp://h:+80", "tcp://h:-0", "tcp://h:\t1",
                                "tcp://h:80 "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (s_bind(bad[i]) != WEIR_EINVAL)
            printf("\nendpoint: '%s' was accepted as '%s'\n", bad[i], s_out);
        CU_ASSERT_EQUAL(s_bind(bad[i]), WEIR_EINVAL);
        CU_ASSERT_EQUAL(s_check(bad[i]), WEIR_EINVAL);
    }
}

static void a_result_that_does_not_fit_is_refused_not_cut(void)
{
    char small[16], err[128];
    CU_ASSERT_EQUAL(
        weir_endpoint_bindable("tcp://127.0.0.1:6510", small, sizeof small, err, sizeof err),
        WEIR_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "too long"));
    /* A host longer than any real one is refused too. */
    char ep[400] = "tcp://";
    memset(ep + 6, 'a', 300);
    snprintf(ep + 306, sizeof ep - 306, ":80");
    CU_ASSERT_EQUAL(s_bind(ep), WEIR_EINVAL);
    CU_ASSERT_EQUAL(s_check(ep), WEIR_EINVAL);
}

void test_endpoint_register(void)
{
    CU_pSuite s = CU_add_suite("endpoint", NULL, NULL);
    CU_add_test(s, "a bindable endpoint is written back as given",
                a_bindable_endpoint_is_written_back_as_given);
    CU_add_test(s, "port 0 binds any free port", port_zero_binds_any_free_port);
    CU_add_test(s, "an endpoint to connect to needs host and port",
                an_endpoint_to_connect_to_needs_host_and_port);
    CU_add_test(s, "other transports and bare addresses are refused",
                other_transports_and_bare_addresses_are_refused);
    CU_add_test(s, "a port must be a number from 0 to 65535",
                a_port_must_be_a_number_from_0_to_65535);
    CU_add_test(s, "a port is digits only", a_port_is_digits_only);
    CU_add_test(s, "a result that does not fit is refused, not cut",
                a_result_that_does_not_fit_is_refused_not_cut);
}
