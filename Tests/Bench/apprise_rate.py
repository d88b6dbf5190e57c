"""Sends one JSON notification to each of COUNT webhook URLs with Apprise and prints the rate.

Usage: apprise_rate.py COUNT MODE PORT PAYLOAD_FILE
MODE is keepalive (paths of one host), distinct (a loopback address per endpoint, as
make bench's recipients) or tls (https to a name per endpoint under speakers.localhost,
verified against REQUESTS_CA_BUNDLE). Python's resolver does not know *.localhost as
libcurl does, so those names are answered with 127.0.0.1 here.
"""
import socket
import sys
import time

import apprise

count, mode, port, payload_file = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
body = open(payload_file, encoding="utf-8").read()

system_getaddrinfo = socket.getaddrinfo


def loopback_names(host, *args, **kwargs):
    if isinstance(host, str) and host.endswith(".localhost"):
        host = "127.0.0.1"
    return system_getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = loopback_names


def url(index):
    if mode == "keepalive":
        return f"json://127.0.0.1:{port}/speaker/apprise-{index}"
    if mode == "distinct":
        b, c, d = 200 + index // 62500, (index // 250) % 250, 1 + index % 250
        return f"json://127.{b}.{c}.{d}:{port}/speaker/apprise-{index}"
    return f"jsons://a{index}.speakers.localhost:{port}/speaker/apprise-{index}"


notifier = apprise.Apprise()
for index in range(count):
    notifier.add(url(index))
started = time.monotonic()
ok = notifier.notify(title="暴雨红色预警", body=body)
elapsed = time.monotonic() - started
print(f"{count} {elapsed:.3f} {count / elapsed:.1f} {'ok' if ok else 'some-failed'}")
