"""A loopback SMTP server for Warncast's tests, on aiosmtpd.

Every accepted message is stored once per accepted recipient in a Maildir, with an
X-Envelope-To header naming that recipient. Mailboxes refuse by their local part:
  nobody...   550 (permanent), on every attempt
  busy...     450 (temporary) on the first two attempts, accepted from the third
With --tls CERT KEY it offers STARTTLS and requires it; with --auth USER:PASSWORD it
requires that login (over TLS). Stored messages then carry X-Sink-TLS and X-Sink-User.
Usage: smtp_sink.py PORT MAILDIR [--tls CERT KEY] [--auth USER:PASSWORD]
"""
import asyncio
import mailbox
import signal
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Sink:
    def __init__(self, maildir):
        self.box = mailbox.Maildir(maildir, create=True)
        self.tries = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0].lower()
        self.tries[address] = self.tries.get(address, 0) + 1
        if local.startswith("nobody"):
            return "550 5.1.1 <%s>: no such mailbox" % address
        if local.startswith("busy") and self.tries[address] <= 2:
            return "450 4.2.1 <%s>: mailbox busy, try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        marks = b"X-Sink-TLS: %s\r\n" % (b"yes" if session.ssl else b"no")
        if session.authenticated:
            marks += b"X-Sink-User: " + str(session.auth_data.login, "utf-8").encode() + b"\r\n"
        for recipient in envelope.rcpt_tos:
            self.box.add(b"X-Envelope-To: " + recipient.encode() + b"\r\n" + marks + envelope.original_content)
        return "250 2.0.0 queued as %d" % len(self.box)


def authenticator_for(login, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == login.encode() and auth_data.password == password.encode()
        return AuthResult(success=ok, handled=False, auth_data=auth_data)
    return check


def main():
    port, maildir = int(sys.argv[1]), sys.argv[2]
    options = {}
    arguments = sys.argv[3:]
    while arguments:
        flag = arguments.pop(0)
        if flag == "--tls":
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(arguments.pop(0), arguments.pop(0))
            options.update(tls_context=context, require_starttls=True)
        elif flag == "--auth":
            login, password = arguments.pop(0).split(":", 1)
            options.update(authenticator=authenticator_for(login, password), auth_required=True, auth_require_tls=True)
        else:
            sys.exit("unknown option " + flag)
    controller = Controller(Sink(maildir), hostname="127.0.0.1", port=port, **options)
    controller.start()
    print("smtp sink listening on 127.0.0.1:%d" % port, flush=True)
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.run_until_complete(stop.wait())
    controller.stop()


if __name__ == "__main__":
    main()
