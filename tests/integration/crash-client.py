#!/usr/bin/python3
"""crash-client.py -- a mail client that keeps trying, for crash.t.

Sends COUNT messages one after another, each retried the way a real client (an MTA or an
application) retries: a 4xx answer, a refused or dropped connection, or no answer at all
means "try again later" (after 0.3 s, 0.6 s, ... at most 2 s) until DEADLINE seconds have
passed since the start; a 5xx is final. Appends one JSON line per attempt to LOG:
  {"id": "<prefix>-<n>", "attempt": k, "result": "accepted"|"temp"|"perm"|"noanswer",
   "code": 250, "text": "...", "qid": "<Postfix queue ID>"|null, "tokens": [...]}
"noanswer" is an attempt whose outcome the client cannot know (the connection broke after
the message was handed over, or an HTTP request got no answer): the message may have been
accepted, so its retry may be a second copy. That is what any client of any server faces.

  crash-client.py smtp --port N [--user U --password P] --from A --to B --prefix P
                  --count N --pace S --deadline S --log FILE [--html URL] [--stop-file F]
  crash-client.py api --url BASE --key KEY --from A --to B --prefix P --count N
                  --pace S --deadline S --log FILE [--stop-file F]

--stop-file: no new message is started once that file exists (one in progress is still
retried to its end).

Standard library only.
"""
import argparse
import json
import os
import re
import smtplib
import socket
import sys
import time
import urllib.error
import urllib.request

QID = re.compile(r"queued as ([0-9A-Za-z]+)")


def message(args, ident):
    subject = "crash %s" % ident
    lines = [
        "From: App <%s>" % args.mail_from,
        "To: %s" % args.to,
        "Subject: %s" % subject,
        "Message-ID: <%s@crash.test>" % ident,
        "X-Test-ID: %s" % ident,
        "MIME-Version: 1.0",
    ]
    if args.html:
        lines += ["Content-Type: text/html; charset=utf-8", "",
                  '<html><body><p>Hello %s <a href="%s?m=%s">look</a></p></body></html>' % (ident, args.html, ident)]
    else:
        lines += ["Content-Type: text/plain; charset=utf-8", "", "Hello %s." % ident, "Bye."]
    return subject, "\r\n".join(lines) + "\r\n"


def smtp_attempt(args, ident):
    """One delivery attempt: (result, code, text, qid)."""
    _, data = message(args, ident)
    handed_over = False
    try:
        with smtplib.SMTP("127.0.0.1", args.port, timeout=30) as s:
            s.ehlo("crash-client.test")
            if args.user:
                try:
                    s.login(args.user, args.password)
                except smtplib.SMTPResponseException as e:
                    return ("perm" if e.smtp_code >= 500 else "temp", e.smtp_code, e.smtp_error.decode(errors="replace"), None)
            code, text = s.mail(args.mail_from)
            if code != 250:
                return ("perm" if code >= 500 else "temp", code, text.decode(errors="replace"), None)
            code, text = s.rcpt(args.to)
            if code not in (250, 251):
                return ("perm" if code >= 500 else "temp", code, text.decode(errors="replace"), None)
            code, text = s.docmd("DATA")
            if code != 354:
                return ("perm" if code >= 500 else "temp", code, text.decode(errors="replace"), None)
            handed_over = True
            s.send(smtplib.quotedata(data).encode() + b"\r\n.\r\n")
            code, text = s.getreply()
            text = text.decode(errors="replace")
            if code == 250:
                m = QID.search(text)
                return ("accepted", code, text, m.group(1) if m else None)
            return ("perm" if code >= 500 else "temp", code, text, None)
    except (OSError, smtplib.SMTPException) as e:
        return ("noanswer" if handed_over else "temp", 0, "%s: %s" % (type(e).__name__, e), None)


def api_attempt(args, ident):
    subject, _ = message(args, ident)
    body = json.dumps({"to": [args.to], "from": "App <%s>" % args.mail_from, "subject": subject,
                       "plain_body": "Hello %s." % ident, "tag": ident}).encode()
    req = urllib.request.Request(args.url + "/api/v1/send/message", data=body, method="POST",
                                 headers={"X-Server-API-Key": args.key, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    except (OSError, ConnectionError) as e:
        # Sent but unanswered: it may have been accepted.
        return ("noanswer", 0, "%s: %s" % (type(e).__name__, e), None, [])
    try:
        d = json.loads(raw)
    except ValueError:
        return ("temp", status, raw[:200].decode(errors="replace"), None, [])
    if d.get("status") == "success":
        tokens = [m["token"] for m in d["data"]["messages"].values()]
        return ("accepted", status, d["data"]["message_id"], None, tokens)
    code = str(d.get("data", {}).get("code", ""))
    text = "%s %s" % (code, d.get("data", {}).get("message", ""))
    # Postal's error codes: a broken dependency is worth a retry, anything else is final.
    return ("temp" if status >= 500 or code in ("", "InternalError") else "perm", status, text, None, [])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["smtp", "api"])
    ap.add_argument("--port", type=int)
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--url")
    ap.add_argument("--key")
    ap.add_argument("--from", dest="mail_from", required=True)
    ap.add_argument("--to", required=True)
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--pace", type=float, default=0.0)
    ap.add_argument("--deadline", type=float, required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--html")
    ap.add_argument("--stop-file", help="start no new message once this file exists")
    args = ap.parse_args()
    end = time.monotonic() + args.deadline
    log = open(args.log, "a", encoding="utf-8")
    for n in range(1, args.count + 1):
        if args.stop_file and os.path.exists(args.stop_file):
            break
        ident = "%s-%d" % (args.prefix, n)
        attempt = 0
        while True:
            attempt += 1
            if args.mode == "smtp":
                result, code, text, qid = smtp_attempt(args, ident)
                tokens = []
            else:
                result, code, text, qid, tokens = api_attempt(args, ident)
            log.write(json.dumps({"id": ident, "attempt": attempt, "result": result, "code": code,
                                  "text": text.strip()[:300], "qid": qid, "tokens": tokens, "time": time.time()}) + "\n")
            log.flush()
            if result in ("accepted", "perm"):
                break
            if time.monotonic() > end:
                log.write(json.dumps({"id": ident, "attempt": attempt, "result": "gaveup", "code": 0, "text": "deadline",
                                      "qid": None, "tokens": [], "time": time.time()}) + "\n")
                log.flush()
                break
            time.sleep(min(0.3 * attempt, 2.0))
        time.sleep(args.pace)
    return 0


if __name__ == "__main__":
    socket.setdefaulttimeout(30)
    sys.exit(main())
