#!/usr/bin/python3
"""click-client.py -- clicks and opens the way browsers make them, for crash.t.

Requests one tracked link (GET /SERVER/LINK, expecting 307) and, every --load-every
request, the message's open pixel (GET /img/SERVER/MESSAGE, expecting 200) through
postgate-tracker, one new connection per request, until STOP_FILE exists or DEADLINE
seconds have passed. Each request carries its own User-Agent ("<prefix> <n>"), which the
tracker records, so every recorded click or load can be matched to its request.

A request that fails (refused, reset, no answer) is not retried: a browser shows an error
and the click is gone; only a request that got its 307/200 was answered. One JSON line
per request to LOG:
  {"ua": "<prefix> <n>", "kind": "click"|"load", "code": 307|200|0, "error": "...", "time": t}

  click-client.py --url BASE --server S --link L --message M --prefix P --log FILE
                  --stop-file F [--pace S] [--load-every N] [--deadline S]

Standard library only.
"""
import argparse
import http.client
import json
import os
import sys
import time
import urllib.parse


def request(host, port, path, ua):
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request("GET", path, headers={"X-Postal-Track-Host": "1", "User-Agent": ua})
        r = conn.getresponse()
        r.read()
        return r.status, ""
    except (OSError, http.client.HTTPException) as e:
        return 0, "%s: %s" % (type(e).__name__, e)
    finally:
        conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--server", required=True)
    ap.add_argument("--link", required=True)
    ap.add_argument("--message", required=True)
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--stop-file", required=True)
    ap.add_argument("--pace", type=float, default=0.01)
    ap.add_argument("--load-every", type=int, default=5)
    ap.add_argument("--deadline", type=float, default=300)
    args = ap.parse_args()
    u = urllib.parse.urlsplit(args.url)
    end = time.monotonic() + args.deadline
    n = 0
    with open(args.log, "a", encoding="utf-8") as log:
        while not os.path.exists(args.stop_file) and time.monotonic() < end:
            n += 1
            ua = "%s %d" % (args.prefix, n)
            if n % args.load_every == 0:
                kind, path = "load", "/img/%s/%s" % (args.server, args.message)
            else:
                kind, path = "click", "/%s/%s" % (args.server, args.link)
            code, error = request(u.hostname, u.port, path, ua)
            log.write(json.dumps({"ua": ua, "kind": kind, "code": code, "error": error, "time": time.time()}) + "\n")
            log.flush()
            time.sleep(args.pace)
    return 0


if __name__ == "__main__":
    sys.exit(main())
