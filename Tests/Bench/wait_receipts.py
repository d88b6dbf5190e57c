"""Waits until every delivery of a warning has a final receipt, as an operator would see it
through the API, and prints the time (seconds since the epoch) it first saw that.

Usage: wait_receipts.py BASE_URL WARNING_ID TOKEN COUNT [INTERVAL]

One process polls `GET /v1/warnings/{id}/deliveries?limit=1` every INTERVAL seconds (0.1 by
default) and reads its summary. The bench used to start curl and a Python interpreter for
every poll; on a 2-core machine that took a large share of the CPU the daemon and nginx
were being measured on. Exits 1 if the count is not reached within 20 minutes.
"""
import json
import sys
import time
import urllib.request

base, warning, token, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
interval = float(sys.argv[5]) if len(sys.argv) > 5 else 0.1
request = urllib.request.Request(
    f"{base}/v1/warnings/{warning}/deliveries?limit=1", headers={"Authorization": f"Bearer {token}"})
deadline = time.time() + 1200
done = 0
while time.time() < deadline:
    with urllib.request.urlopen(request, timeout=30) as response:
        summary = json.load(response)["summary"]
    done = summary.get("delivered", 0) + summary.get("failed", 0) + summary.get("expired", 0)
    if done >= count:
        print(f"{time.time():.3f}")
        sys.exit(0)
    time.sleep(interval)
print(f"only {done} of {count} deliveries finished within 20 minutes", file=sys.stderr)
sys.exit(1)
