#!/usr/bin/python3
"""smtpcodes.py -- a tiny SMTP server for maillog.t that answers RCPT by recipient.

Usage: smtpcodes.py PORT DIR [CERT KEY]

Listens on 127.0.0.1:PORT. RCPT answers by the local part's prefix: "soft" 450 4.2.0,
"hard" 550 5.1.1, anything else 250 2.1.5; while the file DIR/defer-all exists every
RCPT gets 450 4.2.0 (a receiver that is down for a while). Accepted messages are saved
as DIR/msg.N. With CERT and KEY it offers STARTTLS, so Postfix's smtp client logs a
TLS connection. Writes DIR/smtpcodes.pid once it listens; exits on SIGTERM.

Must never: listen beyond loopback, or accept a recipient it was told to refuse.
"""
import os
import signal
import socket
import socketserver
import ssl
import sys
import threading

PORT = int(sys.argv[1])
DIR = sys.argv[2]
TLS = None
if len(sys.argv) > 4:
    TLS = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    TLS.load_cert_chain(sys.argv[3], sys.argv[4])
COUNTER = [0]
LOCK = threading.Lock()


class Session(socketserver.StreamRequestHandler):
    timeout = 30

    def reply(self, text):
        self.wfile.write(text.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        self.tls = False
        self.reply("220 codes.test ESMTP smtpcodes")
        while True:
            line = self.rfile.readline(4096)
            if not line:
                return
            cmd = line.decode("latin-1").rstrip("\r\n")
            verb = cmd.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                ext = ["codes.test", "8BITMIME", "SIZE 50000000"]
                if TLS and not self.tls:
                    ext.append("STARTTLS")
                for e in ext[:-1]:
                    self.reply("250-" + e)
                self.reply("250 " + ext[-1])
            elif verb == "STARTTLS" and TLS and not self.tls:
                self.reply("220 2.0.0 Ready to start TLS")
                conn = TLS.wrap_socket(self.connection, server_side=True)
                self.connection = conn
                self.rfile = conn.makefile("rb")
                self.wfile = conn.makefile("wb")
                self.tls = True
            elif verb == "MAIL":
                self.reply("250 2.1.0 Ok")
            elif verb == "RCPT":
                addr = cmd.split(":", 1)[1].strip().strip("<>").split(">")[0]
                local = addr.split("@")[0].lower()
                if os.path.exists(os.path.join(DIR, "defer-all")) or local.startswith("soft"):
                    self.reply("450 4.2.0 <%s>: Recipient address rejected: try again later" % addr)
                elif local.startswith("hard"):
                    self.reply("550 5.1.1 <%s>: Recipient address rejected: User unknown" % addr)
                else:
                    self.reply("250 2.1.5 Ok")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                body = []
                while True:
                    data = self.rfile.readline(65536)
                    if not data or data in (b".\r\n", b".\n"):
                        break
                    body.append(data)
                with LOCK:
                    COUNTER[0] += 1
                    n = COUNTER[0]
                with open(os.path.join(DIR, "msg.%d" % n), "wb") as f:
                    f.write(b"".join(body))
                self.reply("250 2.0.0 Ok: queued as CODES%d" % n)
            elif verb in ("RSET", "NOOP"):
                self.reply("250 2.0.0 Ok")
            elif verb == "QUIT":
                self.reply("221 2.0.0 Bye")
                return
            else:
                self.reply("502 5.5.2 Error: command not recognized")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    server = Server(("127.0.0.1", PORT), Session)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    with open(os.path.join(DIR, "smtpcodes.pid"), "w") as f:
        f.write("%d\n" % os.getpid())
    server.serve_forever()


if __name__ == "__main__":
    main()
