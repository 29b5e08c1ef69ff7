/*
 * test_msgfmt.c -- util/msgfmt and the structured side of util/msg: JSON lines and GELF
 * 1.1 objects read back with jansson (fields, escaping of quotes, backslashes and control
 * characters, UTF-8 kept and invalid bytes replaced, truncation that fits the buffer
 * without cutting a character), the per-thread log context, and what msg_info() writes
 * to stderr and sends over UDP, including the dropped counter when nobody listens.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <jansson.h>

#include "unit.h"
#include "util/buf.h"
#include "util/metrics.h"
#include "util/msg.h"
#include "util/msgfmt.h"
#include "util/utf8.h"

static MSGFMT_RECORD
record(const char *message)
{
    MSGFMT_RECORD r = {
        .level = MSG_LEVEL_INFO, .program = "postgate-test", .pid = 4242, .time = 1700000000.1234,
        .message = message, .queue_id = "4ABCDEF123", .token = "abcdefgh12345678", .host = "mx1",
        .facility = "postgate",
    };
    return r;
}

/* Parses the output (which must be one line, ending in "\n" for JSON). */
static json_t *
parse(const char *out, int n, int json_line)
{
    json_error_t err;
    json_t *obj;

    ck_assert_int_gt(n, 0);
    ck_assert_uint_eq(strlen(out), (size_t) n);
    if (json_line) {
        ck_assert_int_eq(out[n - 1], '\n');
        ck_assert_ptr_eq(strchr(out, '\n'), out + n - 1);
    } else {
        ck_assert_ptr_null(strchr(out, '\n'));
    }
    for (int i = 0; i < n - (json_line ? 1 : 0); i++)
        ck_assert_int_ge((unsigned char) out[i], 0x20);        /* no raw control character */
    ck_assert(utf8_valid(out, (size_t) n));
    obj = json_loadb(out, (size_t) n, 0, &err);
    ck_assert_msg(obj != NULL, "not JSON (%s): %s", err.text, out);
    return obj;
}

static const char *
str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    ck_assert_msg(json_is_string(v), "%s is not a string", key);
    return json_string_value(v);
}

START_TEST(json_line_fields)
{
    char out[4096];
    MSGFMT_RECORD r = record("delivered to <a@example.com>");
    json_t *obj = parse(out, msgfmt_json(&r, out, sizeof(out)), 1);

    ck_assert_str_eq(str(obj, "timestamp"), "2023-11-14T22:13:20.123Z");
    ck_assert_str_eq(str(obj, "level"), "info");
    ck_assert_str_eq(str(obj, "program"), "postgate-test");
    ck_assert_int_eq(json_integer_value(json_object_get(obj, "pid")), 4242);
    ck_assert_str_eq(str(obj, "message"), "delivered to <a@example.com>");
    ck_assert_str_eq(str(obj, "queue_id"), "4ABCDEF123");
    ck_assert_str_eq(str(obj, "message_token"), "abcdefgh12345678");
    json_decref(obj);

    r.queue_id = "";
    r.token = NULL;
    r.level = MSG_LEVEL_WARN;
    obj = parse(out, msgfmt_json(&r, out, sizeof(out)), 1);
    ck_assert_ptr_null(json_object_get(obj, "queue_id"));
    ck_assert_ptr_null(json_object_get(obj, "message_token"));
    ck_assert_str_eq(str(obj, "level"), "warning");
    json_decref(obj);
}
END_TEST

START_TEST(json_escaping)
{
    char out[4096];
    const char *msg = "say \"hi\" \\ back\nline\ttab\x01\x1f\x7f caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 bad\xff\xc3.";
    MSGFMT_RECORD r = record(msg);
    int n = msgfmt_json(&r, out, sizeof(out));
    json_t *obj = parse(out, n, 1);

    ck_assert_str_eq(str(obj, "message"),
                     "say \"hi\" \\ back\nline\ttab\x01\x1f\x7f caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 bad??.");
    ck_assert_ptr_nonnull(strcasestr(out, "say \\\"hi\\\" \\\\ back\\nline\\ttab\\u0001\\u001f"));
    ck_assert_ptr_nonnull(strstr(out, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));   /* UTF-8 kept as is */
    json_decref(obj);
}
END_TEST

START_TEST(json_truncation)
{
    char out[1024], big[4000];
    MSGFMT_RECORD r = record(big);
    json_t *obj;
    const char *m;
    int n;

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    n = msgfmt_json(&r, out, sizeof(out));
    ck_assert_int_le(n, (int) sizeof(out) - 1);
    obj = parse(out, n, 1);
    m = str(obj, "message");
    ck_assert_int_gt(strlen(m), 800);
    ck_assert_str_eq(m + strlen(m) - strlen(MSGFMT_TRUNCATED), MSGFMT_TRUNCATED);
    ck_assert_str_eq(str(obj, "queue_id"), "4ABCDEF123");                /* other fields kept */
    json_decref(obj);

    /* Two-byte characters: never cut in two. */
    for (size_t i = 0; i + 2 < sizeof(big); i += 2)
        memcpy(big + i, "\xc3\xa9", 2);
    big[sizeof(big) - 2] = '\0';
    for (size_t size = 700; size < 720; size++) {
        n = msgfmt_json(&r, out, size);
        ck_assert_int_le(n, (int) size - 1);
        obj = parse(out, n, 1);
        m = str(obj, "message");
        ck_assert(utf8_valid(m, strlen(m)));
        ck_assert_str_eq(m + strlen(m) - strlen(MSGFMT_TRUNCATED), MSGFMT_TRUNCATED);
        json_decref(obj);
    }

    /* Control characters grow sixfold when escaped: still one fitting line. */
    memset(big, '\x01', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    n = msgfmt_json(&r, out, sizeof(out));
    ck_assert_int_le(n, (int) sizeof(out) - 1);
    json_decref(parse(out, n, 1));

    /* A short message is never marked. */
    r.message = "short";
    obj = parse(out, msgfmt_json(&r, out, sizeof(out)), 1);
    ck_assert_str_eq(str(obj, "message"), "short");
    json_decref(obj);
    ck_assert_int_eq(msgfmt_json(&r, out, 100), -1);                     /* too small to hold anything */
}
END_TEST

START_TEST(gelf_fields)
{
    char out[MSGFMT_GELF_MAX];
    MSGFMT_RECORD r = record("queued \"now\"");
    json_t *obj = parse(out, msgfmt_gelf(&r, out, sizeof(out)), 0);

    ck_assert_str_eq(str(obj, "version"), "1.1");
    ck_assert_str_eq(str(obj, "host"), "mx1");
    ck_assert_str_eq(str(obj, "short_message"), "queued \"now\"");
    ck_assert(json_is_number(json_object_get(obj, "timestamp")));
    ck_assert_double_eq_tol(json_number_value(json_object_get(obj, "timestamp")), 1700000000.123, 0.0005);
    ck_assert_ptr_nonnull(strstr(out, "\"timestamp\":1700000000.123,"));
    ck_assert_int_eq(json_integer_value(json_object_get(obj, "level")), 6);
    ck_assert_str_eq(str(obj, "_facility"), "postgate");
    ck_assert_str_eq(str(obj, "_program"), "postgate-test");
    ck_assert_str_eq(str(obj, "_queue_id"), "4ABCDEF123");
    ck_assert_str_eq(str(obj, "_message_token"), "abcdefgh12345678");
    ck_assert_ptr_null(json_object_get(obj, "_id"));                     /* reserved in GELF */
    ck_assert_ptr_null(json_object_get(obj, "_truncated"));
    json_decref(obj);

    ck_assert_int_eq(msgfmt_severity(MSG_LEVEL_DEBUG), 7);
    ck_assert_int_eq(msgfmt_severity(MSG_LEVEL_WARN), 4);
    ck_assert_int_eq(msgfmt_severity(MSG_LEVEL_ERROR), 3);
    ck_assert_int_eq(msgfmt_severity(MSG_LEVEL_FATAL), 2);
}
END_TEST

START_TEST(gelf_truncation)
{
    static char big[8000];
    char out[MSGFMT_GELF_MAX];
    MSGFMT_RECORD r = record(big);
    json_t *obj;
    const char *m;
    int n;

    /* Escaping takes 8000 control characters far over the datagram size. */
    memset(big, '\n', sizeof(big) - 1);
    n = msgfmt_gelf(&r, out, sizeof(out));
    ck_assert_int_le(n, MSGFMT_GELF_MAX - 1);
    obj = parse(out, n, 0);
    m = str(obj, "short_message");
    ck_assert_str_eq(m + strlen(m) - strlen(MSGFMT_TRUNCATED), MSGFMT_TRUNCATED);
    ck_assert_int_eq(json_integer_value(json_object_get(obj, "_truncated")), 1);
    ck_assert_str_eq(str(obj, "_message_token"), "abcdefgh12345678");
    json_decref(obj);
}
END_TEST

static void *
other_thread(void *arg)
{
    (void) arg;
    return strcmp(msg_context_queue_id(), "") == 0 && strcmp(msg_context_token(), "") == 0 ? (void *) 1 : NULL;
}

START_TEST(context_per_thread)
{
    pthread_t t;
    void *ok = NULL;
    char long_id[100];

    msg_context_set_queue_id("4ABC DEF\n\"x");
    msg_context_set_token("tok.en_1-2");
    ck_assert_str_eq(msg_context_queue_id(), "4ABC?DEF??x");
    ck_assert_str_eq(msg_context_token(), "tok.en_1-2");
    ck_assert_int_eq(pthread_create(&t, NULL, other_thread, NULL), 0);
    pthread_join(t, &ok);
    ck_assert_ptr_nonnull(ok);                                          /* not seen by another thread */
    memset(long_id, 'Q', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    msg_context_set_queue_id(long_id);
    ck_assert_uint_eq(strlen(msg_context_queue_id()), 63);
    msg_context_set_token(NULL);
    ck_assert_str_eq(msg_context_token(), "");
    msg_context_clear();
    ck_assert_str_eq(msg_context_queue_id(), "");
}
END_TEST

/* What msg_info() writes to stderr, captured in a file. */
static char *
captured_info(const char *text)
{
    FILE *fp = tmpfile();
    int saved = dup(STDERR_FILENO);
    static char line[8192];
    size_t n;

    ck_assert_ptr_nonnull(fp);
    dup2(fileno(fp), STDERR_FILENO);
    msg_info("%s", text);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(fp);
    n = fread(line, 1, sizeof(line) - 1, fp);
    line[n] = '\0';
    fclose(fp);
    return line;
}

START_TEST(stderr_text_and_json)
{
    MSG_FORMAT f;
    json_t *obj;
    char *line;

    msg_init("postgate-test");
    ck_assert_int_eq(msg_format_parse("json", &f), 0);
    ck_assert_int_eq(f, MSG_FORMAT_JSON);
    ck_assert_int_eq(msg_format_parse("text", &f), 0);
    ck_assert_int_eq(msg_format_parse("xml", &f), -1);

    msg_context_set_queue_id("4QID");
    msg_context_set_token("tok123");
    line = captured_info("hello\tworld");
    ck_assert_msg(strstr(line, "postgate-test[") == line, "%s", line);
    ck_assert_msg(strstr(line, "]: hello?world queue_id=4QID token=tok123\n") != NULL, "%s", line);
    msg_context_clear();
    line = captured_info("plain");
    ck_assert_msg(strstr(line, "]: plain\n") != NULL, "%s", line);

    msg_set_format(MSG_FORMAT_JSON);
    msg_context_set_queue_id("4QID");
    line = captured_info("said \"hi\"\tthere");
    obj = parse(line, (int) strlen(line), 1);
    ck_assert_str_eq(str(obj, "message"), "said \"hi\"\tthere");
    ck_assert_str_eq(str(obj, "queue_id"), "4QID");
    ck_assert_ptr_null(json_object_get(obj, "message_token"));
    ck_assert_str_eq(str(obj, "program"), "postgate-test");
    json_decref(obj);
    msg_set_format(MSG_FORMAT_TEXT);
    msg_context_clear();
}
END_TEST

/* A UDP socket on a free loopback port; its port in *port_r. */
static int
udp_socket(int *port_r)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *) &sin, sizeof(sin)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *) &sin, &len), 0);
    *port_r = ntohs(sin.sin_port);
    return fd;
}

static double
dropped(void)
{
    BUF *out = buf_new(1024);
    const char *p;
    double v = -1;

    metrics_render(out);
    p = strstr(buf_cstr(out), "\npostgate_log_gelf_dropped_total ");
    if (p)
        v = strtod(p + strlen("\npostgate_log_gelf_dropped_total "), NULL);
    buf_free(out);
    return v;
}

START_TEST(gelf_over_udp)
{
    char error[256], datagram[9000];
    int port, fd = udp_socket(&port);
    struct timeval tv = {5, 0};
    json_t *obj;
    ssize_t n;

    msg_init("postgate-test");
    ck_assert_int_eq(msg_gelf_configure("no such host.invalid", 12201, "x", error, sizeof(error)), -1);
    ck_assert_msg(strstr(error, "logging.gelf_host no such host.invalid") == error, "%s", error);
    ck_assert_int_eq(msg_gelf_configure("127.0.0.1", port, "unit", error, sizeof(error)), 0);
    ck_assert_double_eq(dropped(), 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    msg_context_set_queue_id("4QID");
    msg_context_set_token("tok123");
    captured_info("one datagram");
    msg_context_clear();
    n = recv(fd, datagram, sizeof(datagram) - 1, 0);
    ck_assert_int_gt(n, 0);
    datagram[n] = '\0';
    obj = parse(datagram, (int) n, 0);
    ck_assert_str_eq(str(obj, "version"), "1.1");
    ck_assert_str_eq(str(obj, "short_message"), "one datagram");
    ck_assert_str_eq(str(obj, "_facility"), "unit");
    ck_assert_str_eq(str(obj, "_queue_id"), "4QID");
    ck_assert_str_eq(str(obj, "_message_token"), "tok123");
    ck_assert_int_eq(json_integer_value(json_object_get(obj, "level")), 6);
    json_decref(obj);

    /* Nobody listening: lines go on, the refusals are counted. */
    close(fd);
    for (int i = 0; i < 10; i++) {
        captured_info("into the void");
        usleep(10000);
    }
    ck_assert_double_ge(dropped(), 1);
    ck_assert_int_eq(msg_gelf_configure("", 0, "unit", error, sizeof(error)), 0);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("msgfmt");
    TCase *tc = tcase_create("msgfmt");

    tcase_add_test(tc, json_line_fields);
    tcase_add_test(tc, json_escaping);
    tcase_add_test(tc, json_truncation);
    tcase_add_test(tc, gelf_fields);
    tcase_add_test(tc, gelf_truncation);
    tcase_add_test(tc, context_per_thread);
    tcase_add_test(tc, stderr_text_and_json);
    tcase_add_test(tc, gelf_over_udp);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
