#!/usr/bin/python3
"""smuggle.py -- an SMTP client that tries SMTP smuggling (tests/integration/smuggling.t).

Usage: smuggle.py HOST PORT SOURCE_ADDRESS SEQUENCE TAG MAIL_FROM RCPT FORGED_FROM FORGED_RCPT [USER PASSWORD]

SEQUENCE is lf (\\n.\\n), crlf-lf (\\r\\n.\\n) or lf-crlf (\\n.\\r\\n). Sends one message with
Subject "first TAG" whose body holds SEQUENCE followed by a complete second transaction (MAIL
FROM FORGED_FROM, Subject "forged TAG"), pipelined the way a smuggling attacker (or a relay
that passes the bytes on) would, then a proper end of data and QUIT. Prints every reply line
the server sent. A server that ends DATA at SEQUENCE queues two messages; one that requires
<CR><LF>.<CR><LF> queues one, with the would-be commands as body text.
"""
import base64
import socket
import sys

SEQUENCES = {"lf": b"\n.\n", "crlf-lf": b"\r\n.\n", "lf-crlf": b"\n.\r\n"}


def main():
    host, port, source, seq, tag, mail_from, rcpt, forged_from, forged_rcpt = sys.argv[1:10]
    auth = sys.argv[10:12]
    s = socket.create_connection((host, int(port)), timeout=30, source_address=(source, 0))
    f = s.makefile("rb")
    out = []

    def reply():
        while True:
            line = f.readline()
            if not line:
                out.append("(connection closed)")
                return
            out.append(line.decode("latin-1").rstrip("\r\n"))
            if line[3:4] != b"-":
                return

    def cmd(text):
        s.sendall(text.encode() + b"\r\n")
        reply()

    reply()
    cmd("EHLO smuggler.example.org")
    if auth:
        token = base64.b64encode(b"\0" + auth[0].encode() + b"\0" + auth[1].encode()).decode()
        cmd("AUTH PLAIN " + token)
    cmd("MAIL FROM:<%s>" % mail_from)
    cmd("RCPT TO:<%s>" % rcpt)
    cmd("DATA")
    data = ("From: <%s>\r\nTo: <%s>\r\nSubject: first %s\r\n\r\nfirst message\r\n" % (mail_from, rcpt, tag)).encode()
    data += SEQUENCES[seq]
    data += ("MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\nFrom: <%s>\r\nTo: <%s>\r\nSubject: forged %s\r\n\r\n"
             "forged message\r\n.\r\n" % (forged_from, forged_rcpt, forged_from, forged_rcpt, tag)).encode()
    s.sendall(data)
    # Whatever the server made of that: the replies it sent within a moment.
    s.settimeout(3)
    try:
        while True:
            before = len(out)
            reply()
            if len(out) == before or out[-1] == "(connection closed)":
                break
    except socket.timeout:
        pass
    s.settimeout(30)
    try:
        cmd("QUIT")
    except OSError:
        pass
    s.close()
    print("\n".join(out))


if __name__ == "__main__":
    main()
