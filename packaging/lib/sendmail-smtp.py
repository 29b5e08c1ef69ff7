#!/usr/bin/python3
"""sendmail-smtp.py -- a sendmail(1) stand-in for a private Postfix instance (the tests'
and the demo's): takes `-i -f SENDER -- RCPT...` and a message on standard input, as
postgate's system mailer (sysmail.sendmail_path) runs sendmail, and hands it over SMTP to
the instance's loopback service for local mail (instance.sh's instance_sysmail_service,
127.0.0.1:$SENDMAIL_SMTP_PORT).

Why not Postfix's own sendmail: it queues through the set-group-ID postdrop, which takes an
alternate configuration directory (the private Postfix) from an unprivileged user only when
the system's /etc/postfix/main.cf lists it, and neither a test nor the demo may change that
file. Everything from Postfix's smtpd on is the real path.

When $SENDMAIL_LOG is set, each run appends its arguments to it as one JSON line. When the
file $SENDMAIL_FAIL exists it exits 75 (EX_TEMPFAIL) without sending, as sendmail does when
the queue cannot be written. Exit codes: 0 sent, 64 usage, 75 a 4xx or no answer, 69 a 5xx.
Standard library only.
"""
import json
import os
import smtplib
import sys


def main():
    args = sys.argv[1:]
    if os.environ.get("SENDMAIL_LOG"):
        with open(os.environ["SENDMAIL_LOG"], "a", encoding="utf-8") as log:
            log.write(json.dumps(args) + "\n")
    if os.path.exists(os.environ.get("SENDMAIL_FAIL", "/nonexistent")):
        print("sendmail-smtp: fatal: the queue cannot be written (test)", file=sys.stderr)
        return 75
    sender, rcpts, i = None, [], 0
    while i < len(args):
        a = args[i]
        if a == "-i":
            i += 1
        elif a == "-f" and i + 1 < len(args):
            sender, i = args[i + 1], i + 2
        elif a == "--":
            rcpts, i = args[i + 1:], len(args)
        else:
            print("sendmail-smtp: usage: -i -f SENDER -- RCPT...", file=sys.stderr)
            return 64
    if sender is None or not rcpts:
        print("sendmail-smtp: usage: -i -f SENDER -- RCPT...", file=sys.stderr)
        return 64
    data = sys.stdin.buffer.read()
    try:
        with smtplib.SMTP("127.0.0.1", int(os.environ["SENDMAIL_SMTP_PORT"]), timeout=30) as s:
            s.sendmail(sender, rcpts, data)
    except smtplib.SMTPResponseException as e:
        print("sendmail-smtp: %d %s" % (e.smtp_code, e.smtp_error.decode(errors="replace")), file=sys.stderr)
        return 75 if 400 <= e.smtp_code < 500 else 69
    except smtplib.SMTPRecipientsRefused as e:
        print("sendmail-smtp: refused %s" % e.recipients, file=sys.stderr)
        return 69
    except (OSError, smtplib.SMTPException) as e:
        print("sendmail-smtp: %s" % e, file=sys.stderr)
        return 75
    return 0


if __name__ == "__main__":
    sys.exit(main())
