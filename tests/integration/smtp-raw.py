#!/usr/bin/python3
# smtp-raw.py -- an SMTP client for hostile.t that sends exactly the bytes it is given
# (NUL, bare CR or LF, 8-bit, very long lines), which swaks and smtplib do not all allow.
#
#   smtp-raw.py PORT USER PASS MAIL_FROM RCPTS DATA_FILE [--pad BYTES] [--size N]
#
# RCPTS: one address, or @FILE with one address a line. AUTH PLAIN when USER is not "-".
# DATA_FILE is sent as is (dot-stuffed, CRLF-terminated by this program); --pad appends
# BYTES of 998-octet body lines generated on the fly; --size declares SIZE=N at MAIL.
# Prints one summary line per stage: "mail CODE", "rcpt CODE COUNT" per reply code,
# "data CODE TEXT" (or "data none" / "closed STAGE"). Exit 0 whatever the server said.
import base64
import socket
import sys


def main():
    args = sys.argv[1:]
    pad = size = 0
    if "--pad" in args:
        i = args.index("--pad")
        pad = int(args[i + 1])
        del args[i:i + 2]
    if "--size" in args:
        i = args.index("--size")
        size = int(args[i + 1])
        del args[i:i + 2]
    port, user, password, mail_from, rcpts_arg, data_file = args
    if rcpts_arg.startswith("@"):
        with open(rcpts_arg[1:]) as f:
            rcpts = [line.strip() for line in f if line.strip()]
    else:
        rcpts = [rcpts_arg]
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=90)
    f = s.makefile("rb")

    def reply():
        lines = []
        while True:
            line = f.readline()
            if not line:
                return None, ""
            lines.append(line.decode("latin-1").rstrip("\r\n"))
            if len(line) < 4 or line[3:4] != b"-":
                break
        return lines[-1][:3], " ".join(lines)

    def cmd(text):
        s.sendall(text.encode("latin-1") + b"\r\n")
        return reply()

    reply()
    cmd("EHLO hostile.test")
    if user != "-":
        token = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()
        code, text = cmd("AUTH PLAIN " + token)
        if code != "235":
            print("auth", code, text)
            return
    code, text = cmd("MAIL FROM:<%s>%s" % (mail_from, " SIZE=%d" % size if size else ""))
    print("mail", code, text if code != "250" else "")
    if code != "250":
        return
    counts = {}
    accepted = 0
    for r in rcpts:
        try:
            code, _ = cmd("RCPT TO:<%s>" % r)
        except OSError:
            code = None
        if code is None:
            print("closed rcpt")
            break
        counts[code] = counts.get(code, 0) + 1
        accepted += code == "250"
        if code == "421":
            break
    for code in sorted(counts):
        print("rcpt", code, counts[code])
    if accepted == 0 or code in (None, "421"):
        print("data none")
        return
    try:
        code, text = cmd("DATA")
    except OSError:
        print("closed data")
        return
    if code != "354":
        print("data", code, text)
        return
    with open(data_file, "rb") as d:
        raw = d.read()
    try:
        out = []
        for line in raw.split(b"\r\n"):
            out.append(b"." + line if line.startswith(b".") else line)
        body = b"\r\n".join(out)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        s.sendall(body)
        chunk = (b"p" * 998 + b"\r\n") * 1000
        while pad > 0:
            s.sendall(chunk[:pad] if pad < len(chunk) else chunk)
            pad -= len(chunk)
        s.sendall(b".\r\n")
        code, text = reply()
    except OSError as e:
        code, text = None, str(e)
    print("data", code if code else "none", text)
    try:
        cmd("QUIT")
    except OSError:
        pass


main()
