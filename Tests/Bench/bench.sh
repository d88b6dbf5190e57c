#!/usr/bin/env bash
# make bench: a provincial red warning to BENCH_RECIPIENTS loudspeaker endpoints served by
# nginx on loopback, measured end to end, next to wrk's ceiling for the same server and
# Apprise's rate for the same payload. Writes docs/benchmarks.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N=${BENCH_RECIPIENTS:-100000}
APPRISE_N=${BENCH_APPRISE:-2000}
NGINX_PORT=${BENCH_NGINX_PORT:-18080}
API_PORT=${BENCH_API_PORT:-18081}
WORK=$(mktemp -d /tmp/warncast-bench.XXXXXX)
BIN="$ROOT/.build/release"
DAEMON_PID=""
cleanup() {
    [ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null || true
    [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
}
trap cleanup EXIT
say() { printf '== %s\n' "$*" >&2; }

say "nginx on 127.0.0.1:$NGINX_PORT (work directory $WORK)"
sed "s|@PORT@|$NGINX_PORT|; s|@WORK@|$WORK|g" "$ROOT/Tests/Bench/nginx.conf" > "$WORK/nginx.conf"
nginx -c "$WORK/nginx.conf" -p "$WORK" -e "$WORK/nginx-error.log"

say "$N loudspeakers in the example's 100 villages"
python3 - "$N" "$NGINX_PORT" > "$WORK/recipients.csv" <<'PY'
import sys
n, port = int(sys.argv[1]), sys.argv[2]
villages = [f"{county}{t:03d}{v:03d}" for county in ("430102", "430121") for t in range(1, 6) for v in range(1, 11)]
print("id,channel,region,name,address,secret,options")
for i in range(n):
    print(f"ls-{i},loudspeaker,{villages[i % len(villages)]},大喇叭 {i},http://127.0.0.1:{port}/speaker/{i},,repeat=3")
PY

sed -e "s|port: 8080|port: $API_PORT|" \
    -e "s|data_dir: ../data|data_dir: $WORK/data|" \
    -e "s|signing_key_file: ../data/signing-keys.json|signing_key_file: $WORK/data/signing-keys.json|" \
    -e "s|  # recipients: recipients.csv|  recipients: $WORK/recipients.csv|" \
    -e "s|file: divisions-cn.csv|file: $ROOT/config/divisions-cn.csv|" \
    -e "s|file: regions-villages.csv|file: $ROOT/config/regions-villages.csv|" \
    -e "s|departments: departments.example.csv|departments: $ROOT/config/departments.example.csv|" \
    -e "s|level: info|level: warning|" \
    "$ROOT/config/warncast.example.yaml" > "$WORK/warncast.yaml"
export WARNCAST_CONFIG="$WORK/warncast.yaml"

say "warncastd (release build)"
"$BIN/warncastd" --config "$WARNCAST_CONFIG" 2> "$WORK/warncastd.log" &
DAEMON_PID=$!
URL="http://127.0.0.1:$API_PORT"
for _ in $(seq 1 600); do curl -fs "$URL/healthz" > /dev/null 2>&1 && break; sleep 0.1; done
curl -fs "$URL/healthz" > /dev/null

ISSUER=$("$BIN/warncast" token create --role issuer --department hn-weather --name bench-issuer 2>/dev/null)
LEADER=$("$BIN/warncast" token create --role approver --department hn-weather --approval-role duty-leader --name bench-leader 2>/dev/null)
GOV=$("$BIN/warncast" token create --role approver --region 430000 --approval-role government-leader --name bench-gov 2>/dev/null)
ID=$(curl -fs -X POST "$URL/v1/warnings" -H "Authorization: Bearer $ISSUER" -H "Content-Type: application/cap+xml" \
    --data-binary @"$ROOT/Tests/Fixtures/rainstorm-red-province.xml" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
curl -fs -X POST "$URL/v1/warnings/$ID/approve" -H "Authorization: Bearer $LEADER" > /dev/null

say "release: the second approval"
START=$(date +%s.%N)
curl -fs -X POST "$URL/v1/warnings/$ID/approve" -H "Authorization: Bearer $GOV" > /dev/null
DONE=0
for _ in $(seq 1 3000); do
    DONE=$(curl -fs "$URL/v1/warnings/$ID/deliveries?limit=1" -H "Authorization: Bearer $ISSUER" |
        python3 -c 'import json,sys; s=json.load(sys.stdin)["summary"]; print(s["delivered"]+s["failed"]+s["expired"])')
    [ "$DONE" -ge "$N" ] && break
    sleep 0.1
done
WALL=$(python3 -c "import time; print(f'{time.time() - $START:.2f}')")
RSS_KB=$(awk '/VmHWM/ {print $2}' "/proc/$DAEMON_PID/status")

# The auditor's views of the same warning, timed at the client: median of five.
median_ms() {
    for _ in 1 2 3 4 5; do
        curl -fs -o /dev/null -w '%{time_total}\n' "$URL$1" -H "Authorization: Bearer $ISSUER"
    done | sort -n | sed -n 3p | python3 -c 'import sys; print(f"{float(sys.stdin.read()) * 1000:.0f}")'
}
say "per-tier report and timeline of $N deliveries"
REPORT_MS=$(median_ms "/v1/warnings/$ID/report?depth=village")
TIMELINE_MS=$(median_ms "/v1/warnings/$ID/timeline")
DB="$WORK/data/warncast.sqlite"
read -r DELIVERED FAILED RELEASE_TO_LAST P50 P99 < <(python3 - "$DB" "$ID" <<'PY'
import sqlite3, sys
from datetime import datetime
db = sqlite3.connect(sys.argv[1]); wid = sys.argv[2]
def ts(text): return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
released = db.execute("SELECT releasedAt FROM warning WHERE id = ?", (wid,)).fetchone()[0]
last = db.execute("SELECT max(deliveredAt) FROM delivery WHERE warningID = ?", (wid,)).fetchone()[0]
counts = dict(db.execute("SELECT state, count(*) FROM delivery WHERE warningID = ? GROUP BY state", (wid,)).fetchall())
ms = sorted(r[0] for r in db.execute("SELECT a.milliseconds FROM attempt a JOIN delivery d ON d.id = a.deliveryID WHERE d.warningID = ?", (wid,)))
pick = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))] if ms else 0
print(counts.get("delivered", 0), counts.get("failed", 0), f"{ts(last) - ts(released):.2f}", pick(0.50), pick(0.99))
PY
)
kill "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true; DAEMON_PID=""

say "wrk: the loopback ceiling of the same nginx (2 KB POST, keep-alive, 5 s)"
WRK=$(wrk -t2 -c64 -d5s -s "$ROOT/Tests/Bench/post.lua" "http://127.0.0.1:$NGINX_PORT/speaker/1" | awk '/Requests\/sec/ {print $2}')

say "Apprise: the same payload to $APPRISE_N JSON webhooks on the same nginx"
python3 - "$ROOT/Tests/Fixtures/rainstorm-red-province.xml" > "$WORK/payload.txt" <<'PY'
import json, sys
cap = open(sys.argv[1], encoding="utf-8").read()
print(json.dumps({"text": "湖南省气象台发布暴雨红色预警信号。停止集会、停课、停业；转移危险地带人员。", "repeat": 3, "cap": cap}, ensure_ascii=False))
PY
read -r _ APPRISE_SECONDS APPRISE_RATE APPRISE_OK < <(python3 "$ROOT/Tests/Bench/apprise_rate.py" "$APPRISE_N" "127.0.0.1:$NGINX_PORT" "$WORK/payload.txt")

RATE=$(python3 -c "print(f'{$DELIVERED / $RELEASE_TO_LAST:.0f}')")
RATIO=$(python3 -c "print(f'{$RATE / $APPRISE_RATE:.1f}')")
CEILING=$(python3 -c "print(f'{$RATE / $WRK * 100:.0f}')")
CPU=$(awk -F: '/model name/ {gsub(/^ +/, "", $2); print $2; exit}' /proc/cpuinfo)
MEM=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
TABLE=$(cat <<MD
| measure | value |
| --- | --- |
| loudspeaker endpoints | $N |
| delivered / failed | $DELIVERED / $FAILED |
| release to last receipt stored (from the store's timestamps) | $RELEASE_TO_LAST s |
| release to all receipts seen through the API (polled every 0.1 s) | $WALL s |
| deliveries per second | $RATE |
| per-delivery latency p50 / p99 (request sent to answer read) | $P50 ms / $P99 ms |
| peak RSS of warncastd (VmHWM) | $((RSS_KB / 1024)) MB |
| \`GET /v1/warnings/{id}/report?depth=village\` (roll-up province to villages, blind spots), median of 5 | $REPORT_MS ms |
| \`GET /v1/warnings/{id}/timeline\` (50 / 95 / 100 % per channel), median of 5 | $TIMELINE_MS ms |
| wrk, same nginx, 2 KB POST, 64 connections | $WRK requests/s |
| warncast as a share of that ceiling | $CEILING % |
| Apprise $(python3 -c 'import apprise; print(apprise.__version__)'), $APPRISE_N JSON webhooks, same payload | $APPRISE_RATE deliveries/s ($APPRISE_SECONDS s, $APPRISE_OK) |
| warncast / Apprise | $RATIO × |
MD
)
echo "$TABLE"
# make soak's section (from its heading to the end) is kept as it is.
SOAK=$(sed -n '/^## Soak$/,$p' "$ROOT/docs/benchmarks.md" 2>/dev/null || true)
cat > "$ROOT/docs/benchmarks.md" <<MD
# Benchmarks

Produced by \`make bench\` (\`Tests/Bench/bench.sh\`); rerun it to refresh this page. A
provincial red warning (430000) is released to $N loudspeaker endpoints registered in the
example's 100 villages. Every endpoint is a path on one nginx on loopback that answers
\`{"ack":true}\`, so each delivery is a signed HTTP POST of about 3 KB (CAP XML inside JSON)
whose receipt is stored as \`delivered\`. warncastd is the release build with the example
configuration (loudspeaker channel: 256 concurrent requests, no rate limit).

Machine: $(nproc) cores ($CPU), $MEM, $(. /etc/os-release; echo "$PRETTY_NAME"), measured $(date -u +%Y-%m-%d).
nginx, wrk, Apprise and warncastd share the machine, so the figures are a ratio of one
another more than absolutes.

$TABLE

Targets from the dispatch issue: 100,000 deliveries with receipts in under 20 s, RSS under
300 MB, at least 10 times Apprise's rate. From the roll-up issue: the per-tier report of a
100,000-delivery warning in under 200 ms.
MD
if [ -n "$SOAK" ]; then printf '\n%s\n' "$SOAK" >> "$ROOT/docs/benchmarks.md"; fi
say "wrote docs/benchmarks.md"
