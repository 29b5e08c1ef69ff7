#!/usr/bin/python3
"""smtp-receiver.py -- a small SMTP server for the endpoint tests: optional AUTH PLAIN/LOGIN
and STARTTLS, one JSON line per accepted message.

  smtp-receiver.py --log FILE --port-file FILE [--user U --password P] [--tls-cert PEM --tls-key PEM]

Each accepted message appends {"auth": user or null, "tls": bool, "mail_from": ..., "rcpt_to": [...],
"data": "<message text>"} to LOG. With --user, MAIL without a successful AUTH gets 530 and a wrong
password 535. With --tls-cert, EHLO offers STARTTLS. A recipient starting with "reject" gets 550,
"defer" gets 450. Binds a free loopback port (written to --port-file). Standard library only;
stops on SIGTERM/SIGINT.
"""
import argparse
import base64
import json
import signal
import socketserver
import ssl
import sys
import threading


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    args = ap.parse_args()
    lock = threading.Lock()
    log = open(args.log, "a", encoding="utf-8")
    tls_ctx = None
    if args.tls_cert:
        tls_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls_ctx.load_cert_chain(args.tls_cert, args.tls_key)

    class Handler(socketserver.StreamRequestHandler):
        def reply(self, line):
            self.wfile.write((line + "\r\n").encode())
            self.wfile.flush()

        def readline(self):
            line = self.rfile.readline(65536)
            if not line:
                raise EOFError
            return line.decode("utf-8", "surrogateescape").rstrip("\r\n")

        def check_plain(self, blob):
            try:
                parts = base64.b64decode(blob).decode().split("\0")
            except Exception:
                return None
            if len(parts) == 3 and parts[1] == args.user and parts[2] == args.password:
                return parts[1]
            return None

        def handle(self):
            self.tls = False
            self.auth = None
            try:
                self.session()
            except (EOFError, ConnectionError, ssl.SSLError):
                pass

        def session(self):
            self.reply("220 receiver.test ESMTP")
            mail_from, rcpts = None, []
            while True:
                line = self.readline()
                verb = line[:4].upper()
                if verb in ("EHLO", "HELO"):
                    ext = ["250-receiver.test"]
                    if tls_ctx and not self.tls:
                        ext.append("250-STARTTLS")
                    if args.user:
                        ext.append("250-AUTH PLAIN LOGIN")
                    ext.append("250 8BITMIME")
                    for e in ext:
                        self.reply(e)
                elif line.upper() == "STARTTLS" and tls_ctx and not self.tls:
                    self.reply("220 go ahead")
                    conn = tls_ctx.wrap_socket(self.request, server_side=True)
                    self.request = conn
                    self.rfile = conn.makefile("rb")
                    self.wfile = conn.makefile("wb")
                    self.tls = True
                elif verb == "AUTH" and args.user:
                    words = line.split()
                    user = None
                    if len(words) >= 2 and words[1].upper() == "PLAIN":
                        blob = words[2] if len(words) > 2 else None
                        if blob is None:
                            self.reply("334 ")
                            blob = self.readline()
                        user = self.check_plain(blob)
                    elif len(words) >= 2 and words[1].upper() == "LOGIN":
                        self.reply("334 VXNlcm5hbWU6")
                        u = base64.b64decode(self.readline()).decode("utf-8", "replace")
                        self.reply("334 UGFzc3dvcmQ6")
                        p = base64.b64decode(self.readline()).decode("utf-8", "replace")
                        user = u if u == args.user and p == args.password else None
                    if user:
                        self.auth = user
                        self.reply("235 2.7.0 Authentication successful")
                    else:
                        self.reply("535 5.7.8 Authentication credentials invalid")
                elif verb == "MAIL":
                    if args.user and not self.auth:
                        self.reply("530 5.7.0 Authentication required")
                        continue
                    mail_from, rcpts = line[line.index(":") + 1:].strip().strip("<>"), []
                    self.reply("250 2.1.0 Ok")
                elif verb == "RCPT":
                    rcpt = line[line.index(":") + 1:].strip().strip("<>")
                    if rcpt.startswith("reject"):
                        self.reply("550 5.1.1 No such user here")
                    elif rcpt.startswith("defer"):
                        self.reply("450 4.2.0 Try again later")
                    else:
                        rcpts.append(rcpt)
                        self.reply("250 2.1.5 Ok")
                elif verb == "DATA":
                    if not rcpts:
                        self.reply("503 5.5.1 No recipients")
                        continue
                    self.reply("354 End data with <CR><LF>.<CR><LF>")
                    lines = []
                    while True:
                        data = self.readline()
                        if data == ".":
                            break
                        lines.append(data[1:] if data.startswith(".") else data)
                    with lock:
                        log.write(json.dumps({"auth": self.auth, "tls": self.tls, "mail_from": mail_from,
                                              "rcpt_to": rcpts, "data": "\r\n".join(lines) + "\r\n"}) + "\n")
                        log.flush()
                    self.reply("250 2.0.0 Ok: queued as R%d" % len(lines))
                elif verb == "RSET":
                    mail_from, rcpts = None, []
                    self.reply("250 Ok")
                elif verb == "NOOP":
                    self.reply("250 Ok")
                elif verb == "QUIT":
                    self.reply("221 Bye")
                    return
                else:
                    self.reply("502 5.5.2 Command not recognized")

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    server = Server(("127.0.0.1", 0), Handler)
    with open(args.port_file + ".tmp", "w") as f:
        f.write("%d\n" % server.server_address[1])
    import os
    os.rename(args.port_file + ".tmp", args.port_file)

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
