#!/usr/bin/python3
"""A real SMTP server for the tests (Debian's python3-aiosmtpd) on a loopback port.

Every message it accepts is saved in --dir as NNNN.eml (the bytes received) and NNNN.json
(envelope and the decoded message: headers, text part, HTML part, inline parts), written
atomically, so a test can poll the folder. Writes --dir/ready once it listens. Stops on SIGTERM.

Options: --auth USER:PASSWORD requires AUTH (PLAIN/LOGIN); --tls CERT KEY offers and requires
STARTTLS.
"""
import argparse
import asyncio
import email
import email.policy
import json
import os
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class SaveToFolder:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        message = email.message_from_bytes(raw, policy=email.policy.default)
        text = html = None
        inline = []
        for part in message.walk():
            if part.is_multipart():
                continue
            kind = part.get_content_type()
            if kind == "text/plain" and text is None:
                text = part.get_content()
            elif kind == "text/html" and html is None:
                html = part.get_content()
            else:
                inline.append({"type": kind, "content_id": part.get("Content-ID", ""),
                               "size": len(part.get_payload(decode=True) or b"")})
        summary = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "auth_login": (session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword)
                           else None),
            "tls": bool(session.ssl),
            "headers": {k.lower(): str(v) for k, v in message.items()},
            "raw_headers": {k.lower(): v for k, v in message.raw_items()},
            "content_type": message.get_content_type(),
            "text": text,
            "html": html,
            "inline": inline,
            "max_line_length": max((len(line) for line in raw.split(b"\r\n")), default=0),
            "eight_bit": any(b > 127 for b in raw),
        }
        with self.lock:
            self.count += 1
            name = f"{self.count:04d}"
        for ext, data in ((".eml", raw), (".json", json.dumps(summary, indent=1).encode("utf-8"))):
            path = os.path.join(self.folder, name + ext)
            with open(path + ".tmp", "wb") as f:
                f.write(data)
            os.replace(path + ".tmp", path)
        return "250 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--auth")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = parser.parse_args()

    kwargs = {}
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
                  and auth_data.password.decode() == password)
            return AuthResult(success=ok, auth_data=auth_data if ok else None)

        kwargs.update(authenticator=authenticator, auth_required=True,
                      auth_require_tls=bool(args.tls))
    if args.tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls[0], args.tls[1])
        kwargs.update(tls_context=context, require_starttls=True)

    controller = Controller(SaveToFolder(args.dir), hostname="127.0.0.1", port=args.port, **kwargs)
    controller.start()
    with open(os.path.join(args.dir, "ready"), "w") as f:
        f.write(str(os.getpid()))

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(3600):
        pass
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
