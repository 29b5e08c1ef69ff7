#!/usr/bin/python3
"""webhook-receiver.py -- a small HTTP receiver for webhook tests and the demo.

Appends one JSON line per request to LOG, written (and flushed) as soon as the request
body has been read, before any delay and before the answer:
  {"time": <epoch seconds>, "method": "POST", "path": "/...", "headers": {name: value},
   "raw": "<the body exactly as received>", "body": <the body parsed as JSON, or null>}

  webhook-receiver.py --log FILE [--port N] [--port-file FILE] [--status 500,500,200]
                      [--delay SECONDS[,SECONDS...]] [--bind ADDRESS]

--status is the sequence of status codes for the 1st, 2nd, ... request (the last repeats;
default 200). --delay sleeps before the answer, the same way per request (3,0: only the
first request waits). --port 0 (default) binds a free port on --bind (127.0.0.1, or ::1);
--port-file receives the port once the socket listens. Threaded: a sleeping request
never holds up another. Standard library only; stops on SIGTERM/SIGINT.
"""
import argparse
import json
import os
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 16 * 1024 * 1024


def main():
    ap = argparse.ArgumentParser(description="HTTP receiver that logs every request as a JSON line")
    ap.add_argument("--log", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--status", default="200")
    ap.add_argument("--delay", default="0")
    ap.add_argument("--bind", default="127.0.0.1")
    args = ap.parse_args()
    try:
        statuses = [int(s) for s in args.status.split(",")]
        if not statuses or any(s < 100 or s > 599 for s in statuses):
            raise ValueError
    except ValueError:
        ap.error("--status: a comma-separated list of HTTP status codes (100-599)")
    try:
        delays = [float(s) for s in args.delay.split(",")]
        if any(d < 0 for d in delays):
            raise ValueError
    except ValueError:
        ap.error("--delay: a comma-separated list of seconds, none negative")

    lock = threading.Lock()
    state = {"count": 0}
    log = open(args.log, "a", encoding="utf-8")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):  # quiet: the JSON log is the record
            pass

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length < 0 or length > MAX_BODY:
                self.send_error(413)
                return
            raw = self.rfile.read(length) if length else b""
            text = raw.decode("utf-8", "surrogateescape")
            try:
                body = json.loads(text) if text else None
            except ValueError:
                body = None
            with lock:
                n = state["count"]
                state["count"] += 1
                log.write(json.dumps({"time": time.time(), "method": self.command, "path": self.path,
                                      "headers": dict(self.headers.items()),
                                      "raw": text.encode("utf-8", "surrogateescape").decode("utf-8", "replace"),
                                      "body": body}) + "\n")
                log.flush()
            delay = delays[min(n, len(delays) - 1)]
            if delay:
                time.sleep(delay)
            status = statuses[min(n, len(statuses) - 1)]
            answer = json.dumps({"received": n + 1, "status": status}).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout): the request is logged all the same

        do_POST = do_GET = do_PUT = handle_any

    ThreadingHTTPServer.daemon_threads = True
    if ":" in args.bind:
        ThreadingHTTPServer.address_family = socket.AF_INET6
    server = ThreadingHTTPServer((args.bind, args.port), Handler)
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % server.server_address[1])
        os.replace(args.port_file + ".tmp", args.port_file)

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
