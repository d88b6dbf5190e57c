"""Sends one JSON notification to each of N webhook URLs with Apprise and prints the rate.

Usage: apprise_rate.py COUNT BASE_URL PAYLOAD_FILE
"""
import sys
import time

import apprise

count, base, payload_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
body = open(payload_file, encoding="utf-8").read()
notifier = apprise.Apprise()
for index in range(count):
    notifier.add(f"json://{base}/speaker/apprise-{index}")
started = time.monotonic()
ok = notifier.notify(title="暴雨红色预警", body=body)
elapsed = time.monotonic() - started
print(f"{count} {elapsed:.3f} {count / elapsed:.1f} {'ok' if ok else 'some-failed'}")
