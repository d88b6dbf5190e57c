"""A loopback SMTP server for Warncast's tests, on aiosmtpd.

Every accepted message is stored once per accepted recipient in a Maildir, with an
X-Envelope-To header naming that recipient. Mailboxes refuse by their local part:
  nobody...   550 (permanent), on every attempt
  busy...     450 (temporary) on the first two attempts, accepted from the third
Usage: smtp_sink.py PORT MAILDIR
"""
import asyncio
import mailbox
import signal
import sys

from aiosmtpd.controller import Controller


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
        for recipient in envelope.rcpt_tos:
            self.box.add(b"X-Envelope-To: " + recipient.encode() + b"\r\n" + envelope.original_content)
        return "250 2.0.0 queued as %d" % len(self.box)


def main():
    port, maildir = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Sink(maildir), hostname="127.0.0.1", port=port)
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
