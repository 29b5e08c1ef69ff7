#!/usr/bin/env python3
# bench/search.py -- the measuring half of bench/search: times postgate-admin's message
# search and message pages over one kept-alive HTTP connection (as a browser or a script
# holds one) and checks every answer against the database through the mariadb client.
# Environment (set by bench/search): BENCH_BASE, BENCH_TOKEN (management API),
# BENCH_KEY (API v1 credential), BENCH_SERVER_ID, BENCH_RUNS, BENCH_DB_SOCKET,
# BENCH_DB_NAME. Exits 1 when a query misses the goal or an answer is wrong.
import datetime
import http.client
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse

GOAL_MS = 100.0
PAGE = 25
WALK_MAX = 6000          # searches with at most this many matches are paged to their end

base = urllib.parse.urlparse(os.environ["BENCH_BASE"])
token = os.environ["BENCH_TOKEN"]
api_key = os.environ["BENCH_KEY"]
sid = int(os.environ["BENCH_SERVER_ID"])
runs = int(os.environ["BENCH_RUNS"])
prefix = "/api/v2/organizations/bench/servers/mail"
failures = []


def sql(q):
    out = subprocess.run(["mariadb", "--no-defaults", "--protocol=socket", "-S", os.environ["BENCH_DB_SOCKET"],
                          "-u", "root", "--batch", "--skip-column-names", "-e", q, os.environ["BENCH_DB_NAME"]],
                         check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def quote(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "''") + "'"


conn = None


def request(method, path, body=None, headers=None):
    """One request on the kept-alive connection: (status, parsed body, seconds)."""
    global conn
    h = {"Authorization": "Bearer " + token}
    h.update(headers or {})
    for attempt in (1, 2):
        if conn is None:
            conn = http.client.HTTPConnection(base.hostname, base.port, timeout=120)
        try:
            t0 = time.perf_counter()
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            data = r.read()
            t1 = time.perf_counter()
            break
        except (http.client.HTTPException, OSError):
            conn.close()
            conn = None
            if attempt == 2:
                raise
    if r.getheader("Connection", "").lower() == "close":
        conn.close()
        conn = None
    return r.status, json.loads(data), t1 - t0


def search(params):
    return request("GET", prefix + "/messages?" + urllib.parse.urlencode(params))


def timed(fn):
    fn()                                    # warm-up (and the answer checked)
    times = []
    for _ in range(runs):
        times.append(fn() * 1000.0)
    times.sort()
    return statistics.median(times), times[max(0, -(-95 * len(times) // 100) - 1)]


rows = []


def report(name, median, p95, note, goal=True):
    verdict = ("PASS" if p95 < GOAL_MS else "FAIL") if goal else "info"
    if verdict == "FAIL":
        failures.append("%s: p95 %.1f ms" % (name, p95))
    rows.append((name, median, p95, verdict, note))
    print("  %-44s %8.1f %8.1f  %-4s  %s" % (name, median, p95, verdict, note), flush=True)


def wrong(name, why):
    failures.append("%s: %s" % (name, why))
    print("  %-44s WRONG: %s" % (name, why), flush=True)


def expected(where, before=None, limit=PAGE):
    """The ids of a page as SQL finds them, newest first (the API's order)."""
    cond = "server_id = %d AND %s" % (sid, where)
    if before is not None:
        cond += (" AND (created_at, id) < (SELECT created_at, id FROM (SELECT created_at, id FROM messages"
                 " WHERE id = %d) b)" % before)
    return [int(r[0]) for r in sql("SELECT id FROM messages WHERE %s ORDER BY created_at DESC, id DESC LIMIT %d"
                                   % (cond, limit))]


def check_search(name, params, where, before=None):
    """Times one search; checks its page (and, when small, every page) against SQL."""
    p = dict(params)
    if before is not None:
        p["before"] = before
    status, body, _ = search(p)
    if status != 200:
        wrong(name, "HTTP %d %s" % (status, json.dumps(body)[:200]))
        return
    got = [m["id"] for m in body["data"]["messages"]]
    want = expected(where, before, int(p.get("limit", PAGE)))
    if got != want:
        wrong(name, "page %s, SQL %s" % (got[:5], want[:5]))
        return
    total = int(sql("SELECT COUNT(*) FROM messages WHERE server_id = %d AND %s" % (sid, where))[0][0])
    nb = body["data"]["next_before"]
    if before is None and (nb is not None) != (total > len(got)):
        wrong(name, "next_before %s with %d matches" % (nb, total))
        return
    note = "%d matches (%.2f %%)" % (total, 100.0 * total / n_server)
    if before is None and total <= WALK_MAX:
        seen, cursor = set(), None
        while True:
            q = dict(params, limit=100)
            if cursor is not None:
                q["before"] = cursor
            status, page, _ = search(q)
            ids = [m["id"] for m in page["data"]["messages"]]
            if status != 200 or seen.intersection(ids):
                wrong(name, "paging: HTTP %d or a repeated message" % status)
                return
            seen.update(ids)
            cursor = page["data"]["next_before"]
            if cursor is None:
                break
        if len(seen) != total:
            wrong(name, "%d messages paged, SQL counts %d" % (len(seen), total))
            return
        note += ", all paged and counted"

    def once():
        status, body, t = search(p)
        if status != 200 or [m["id"] for m in body["data"]["messages"]] != want:
            raise SystemExit("bench/search: %s changed its answer" % name)
        return t
    median, p95 = timed(once)
    report(name, median, p95, note)


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def dbtime(dt):
    return dt.strftime("%Y-%m-%d %H:%M:%S")


now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
day_since = now - datetime.timedelta(days=90)
day_until = day_since + datetime.timedelta(days=1)
week_since = now - datetime.timedelta(days=40)
week_until = week_since + datetime.timedelta(days=7)
month_since = now - datetime.timedelta(days=120)
month_until = month_since + datetime.timedelta(days=30)
n_server = int(sql("SELECT COUNT(*) FROM messages WHERE server_id = %d" % sid)[0][0])
ordinary = sql("SELECT rcpt_to FROM messages WHERE server_id = %d AND id >= %d AND rcpt_to LIKE 'user%%' "
               "ORDER BY id LIMIT 1" % (sid, int(sql("SELECT MAX(id) FROM messages")[0][0]) // 2))[0][0]
deep = int(sql("SELECT id FROM messages WHERE server_id = %d ORDER BY created_at, id LIMIT 1 OFFSET %d"
               % (sid, n_server // 10))[0][0])
middle = int(sql("SELECT id FROM messages WHERE server_id = %d ORDER BY created_at, id LIMIT 1 OFFSET %d"
                 % (sid, n_server // 2))[0][0])
mid_id = sql("SELECT message_id FROM messages WHERE id = %d" % middle)[0][0]


def window(a, b):
    return "created_at >= '%s' AND created_at < '%s'" % (dbtime(a), dbtime(b))


print("  %-44s %8s %8s  %-4s  %s" % ("query (server of %d messages)" % n_server, "median", "p95", "", "answer"))
print("  %-44s %8s %8s" % ("", "ms", "ms"))

# The floor: an authenticated request that reads no message.
def floor_once():
    status, _, t = request("GET", prefix)
    if status != 200:
        raise SystemExit("bench/search: GET of the server answered %d" % status)
    return t
median, p95 = timed(floor_once)
report("floor: GET the server (no message read)", median, p95, "", goal=False)

H = "ops@bench.example"
searches = [
    ("newest page, no filter", {}, "1"),
    ("newest page, limit=100", {"limit": 100}, "1"),
    ("to: a frequent recipient", {"to": H}, "rcpt_to = %s" % quote(H)),
    ("to: an ordinary recipient, other case", {"to": ordinary.upper()}, "rcpt_to = %s" % quote(ordinary)),
    ("to: nobody", {"to": "nobody@nowhere.example"}, "rcpt_to = 'nobody@nowhere.example'"),
    ("from: a sender", {"from": "app7@bench.example"}, "mail_from = 'app7@bench.example'"),
    ("message_id", {"message_id": mid_id}, "message_id = %s" % quote(mid_id)),
    ("tag: newsletter (common)", {"tag": "newsletter"}, "tag = 'newsletter'"),
    ("tag: audit (rare)", {"tag": "audit"}, "tag = 'audit'"),
    ("status: Sent (common)", {"status": "Sent"}, "status = 'Sent'"),
    ("status: HardFail", {"status": "HardFail"}, "status = 'HardFail'"),
    ("status: Held (rare)", {"status": "Held"}, "status = 'Held'"),
    ("scope: incoming", {"scope": "incoming"}, "scope = 'incoming'"),
    ("since/until: one day, 90 days ago", {"since": iso(day_since), "until": iso(day_until)},
     window(day_since, day_until)),
    ("since/until: 30 days, 120 days ago", {"since": iso(month_since), "until": str(int(month_until.timestamp()))},
     window(month_since, month_until)),
    ("since: the last 30 days", {"since": iso(now - datetime.timedelta(days=30))},
     "created_at >= '%s'" % dbtime(now - datetime.timedelta(days=30))),
    ("tag + status: newsletter, HardFail", {"tag": "newsletter", "status": "HardFail"},
     "tag = 'newsletter' AND status = 'HardFail'"),
    ("tag + status: audit, Held", {"tag": "audit", "status": "Held"}, "tag = 'audit' AND status = 'Held'"),
    ("to + status: frequent recipient, HardFail", {"to": H, "status": "HardFail"},
     "rcpt_to = %s AND status = 'HardFail'" % quote(H)),
    ("to + tag: frequent recipient, audit", {"to": H, "tag": "audit"}, "rcpt_to = %s AND tag = 'audit'" % quote(H)),
    ("status + week: HardFail, 40 days ago", {"status": "HardFail", "since": iso(week_since), "until": iso(week_until)},
     "status = 'HardFail' AND " + window(week_since, week_until)),
    ("tag + week: receipt, 40 days ago", {"tag": "receipt", "since": iso(week_since), "until": iso(week_until)},
     "tag = 'receipt' AND " + window(week_since, week_until)),
    ("tag + status + week: newsletter, Bounced", {"tag": "newsletter", "status": "Bounced", "since": iso(week_since),
                                                 "until": iso(week_until)},
     "tag = 'newsletter' AND status = 'Bounced' AND " + window(week_since, week_until)),
    ("scope + status: incoming, HardFail", {"scope": "incoming", "status": "HardFail"},
     "scope = 'incoming' AND status = 'HardFail'"),
    ("tag + status: newsletter, Sent", {"tag": "newsletter", "status": "Sent"},
     "tag = 'newsletter' AND status = 'Sent'"),
    ("until: 90 days ago", {"until": iso(day_since)}, "created_at < '%s'" % dbtime(day_since)),
    ("status + time: Sent, 170 to 90 days ago",
     {"status": "Sent", "since": iso(now - datetime.timedelta(days=170)), "until": iso(day_since)},
     "status = 'Sent' AND " + window(now - datetime.timedelta(days=170), day_since)),
    # Filters that exclude each other (no incoming message is Sent or tagged): the whole
    # range of one of them is read to find that nothing matches.
    ("scope + status: incoming, Sent (none)", {"scope": "incoming", "status": "Sent"},
     "scope = 'incoming' AND status = 'Sent'"),
    ("scope + tag: incoming, newsletter (none)", {"scope": "incoming", "tag": "newsletter"},
     "scope = 'incoming' AND tag = 'newsletter'"),
]
for name, params, where in searches:
    check_search(name, params, where)

# Keyset pages deep into the results (before = a message 90 % / 50 % down the log).
deep_pages = [
    ("page 90 % deep, no filter", {}, "1", deep),
    ("page 50 % deep, no filter", {}, "1", middle),
    ("page 50 % deep, limit=100", {"limit": 100}, "1", middle),
    ("page 50 % deep, status: Sent", {"status": "Sent"}, "status = 'Sent'", middle),
    ("page 50 % deep, scope: outgoing", {"scope": "outgoing"}, "scope = 'outgoing'", middle),
    ("page 90 % deep, tag: newsletter", {"tag": "newsletter"}, "tag = 'newsletter'", deep),
    ("page 90 % deep, status: HardFail", {"status": "HardFail"}, "status = 'HardFail'", deep),
    ("page 50 % deep, to: frequent recipient", {"to": H}, "rcpt_to = %s" % quote(H), middle),
    ("page 90 % deep, tag + status", {"tag": "receipt", "status": "HardFail"},
     "tag = 'receipt' AND status = 'HardFail'", deep),
]
for name, params, where, before in deep_pages:
    check_search(name, params, where, before)

# Outside the goal (a substring match reads every message of the server): measured to say so.
sub = {"subject": "order has"}
status, body, _ = search(sub)
want = expected("subject LIKE '%order has%'")
if status != 200 or [m["id"] for m in body["data"]["messages"]] != want:
    wrong("subject substring", "page differs from SQL")
else:
    median, p95 = timed(lambda: search(sub)[2])
    report("subject: substring (not in the goal)", median, p95, "newest page", goal=False)

# A message's page: the web admin's message view and API v1's.
def page_of(name, mid):
    status, body, _ = request("GET", "%s/messages/%d" % (prefix, mid))
    if status != 200:
        wrong(name, "HTTP %d" % status)
        return
    m = body["data"]["message"]
    counts = sql("SELECT (SELECT COUNT(*) FROM deliveries WHERE message_id = %d), (SELECT COUNT(*) FROM loads "
                 "WHERE message_id = %d), (SELECT COUNT(*) FROM clicks WHERE message_id = %d), "
                 "(SELECT raw_message_id IS NOT NULL FROM messages WHERE id = %d)" % (mid, mid, mid, mid))[0]
    got = [len(m["deliveries"]), len(m["loads"]), len(m["clicks"]), int(m["raw_message_available"])]
    if got != [int(x) for x in counts] or (counts[3] == "1" and m["html_body"] is None):
        wrong(name, "deliveries, opens, clicks, raw %s; SQL %s" % (got, counts))
        return
    median, p95 = timed(lambda: request("GET", "%s/messages/%d" % (prefix, mid))[2])
    report(name, median, p95, "%s deliveries, %s opens, %s clicks%s" % (counts[0], counts[1], counts[2],
                                                                        ", raw message parsed" if counts[3] == "1" else
                                                                        ", raw message expired"))

    def v1(path, payload):
        return request("POST", "/api/v1/messages/" + path, json.dumps(payload),
                       {"X-Server-API-Key": api_key, "Content-Type": "application/json"})
    status, body, _ = v1("message", {"id": mid, "_expansions": True})
    dstatus, dbody, _ = v1("deliveries", {"id": mid})
    if (status != 200 or body.get("status") != "success" or body["data"]["id"] != mid
            or len(body["data"]["activity_entries"]["loads"]) != int(counts[1])
            or dstatus != 200 or len(dbody["data"]) != int(counts[0])):
        wrong(name + " (API v1)", "messages/message or messages/deliveries disagree with SQL")
        return
    median, p95 = timed(lambda: v1("message", {"id": mid, "_expansions": True})[2])
    report("  API v1 messages/message, all expansions", median, p95, "the same message")
    median, p95 = timed(lambda: v1("deliveries", {"id": mid})[2])
    report("  API v1 messages/deliveries", median, p95, "the same message")


recent = int(sql("SELECT m.id FROM messages m JOIN clicks c ON c.message_id = m.id WHERE m.server_id = %d "
                 "AND m.raw_message_id IS NOT NULL ORDER BY m.id DESC LIMIT 1" % sid)[0][0])
old = int(sql("SELECT m.id FROM messages m JOIN loads l ON l.message_id = m.id WHERE m.server_id = %d "
              "AND m.raw_message_id IS NULL ORDER BY m.id LIMIT 1" % sid)[0][0])
page_of("message page: recent (raw, opens, clicks)", recent)
page_of("message page: 6 months old (raw expired)", old)

if failures:
    print("bench/search: FAIL (%d): %s" % (len(failures), "; ".join(failures)))
    sys.exit(1)
print("bench/search: PASS: every query's p95 under %.0f ms, every answer as SQL finds it" % GOAL_MS)
