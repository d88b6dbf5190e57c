#!/usr/bin/env bash
# make bench: a provincial red warning to BENCH_RECIPIENTS loudspeaker endpoints served by
# nginx on loopback, measured end to end in three modes, each next to its own ceiling (wrk
# against the same nginx) and Apprise's rate for the same payload in the same mode:
#   keepalive  every endpoint a path of one host, connections kept and reused;
#   distinct   every endpoint its own loopback address (127.B.C.D), as village terminals
#              are each their own host: a new connection per delivery;
#   tls        every endpoint its own name under speakers.localhost over HTTPS, verified
#              against a test CA made here: a new TLS handshake per delivery.
# Then a million recipients (the release and its planning), and 15,000 dial-in terminals
# (BENCH_DIALIN) holding a connection each while a red warning is pushed to them all.
# BENCH_MODES picks some of them (keepalive distinct tls million dialin). Writes
# docs/benchmarks.md, or BENCH_DOC. BENCH_BIN runs another build; BENCH_KEEP=1 keeps the
# work directory. BENCH_PROFILE=1 records perf call graphs for BENCH_PROFILE_SECONDS (3)
# from a second into each HTTP mode's release, and over the whole dial-in push, and splits
# each delivery's CPU by place.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N=${BENCH_RECIPIENTS:-100000}
APPRISE_N=${BENCH_APPRISE:-2000}
MODES=${BENCH_MODES:-keepalive distinct tls million dialin}
NGINX_PORT=${BENCH_NGINX_PORT:-18080}
TLS_PORT=${BENCH_TLS_PORT:-18443}
API_PORT=${BENCH_API_PORT:-18081}
WORK=$(mktemp -d /tmp/warncast-bench.XXXXXX)
BIN=${BENCH_BIN:-$ROOT/.build/release}
DAEMON_PID=""
PROFILER=""
# The work directory (stores of up to a million deliveries) goes at the end, unless
# BENCH_KEEP=1 keeps it to look at.
cleanup() {
    [ -n "$PROFILER" ] && kill "$PROFILER" 2>/dev/null || true
    [ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null || true
    [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        printf '== kept the work directory %s\n' "$WORK" >&2
    else
        sleep 0.5
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
say() { printf '== %s\n' "$*" >&2; }
# CPU seconds (user + system) of a process so far.
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }
ulimit -n 40000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ "${BENCH_PROFILE:-0}" = 1 ] && [[ " $MODES " =~ \ (keepalive|distinct|tls|dialin)\  ]] && ! command -v perf > /dev/null; then
    echo "bench: BENCH_PROFILE=1 needs perf (Debian's linux-perf; make bench installs it)" >&2
    exit 2
fi

say "a test CA and a certificate for *.speakers.localhost (work directory $WORK)"
mkdir -p "$WORK/tls"
(
    cd "$WORK/tls"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=warncast bench CA" -keyout ca.key -out ca.pem 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -subj "/CN=speakers.localhost" -keyout server.key -out server.csr 2>/dev/null
    printf 'subjectAltName=DNS:*.speakers.localhost\n' > san.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
        -extfile san.ext -out server.pem 2>/dev/null
)

# The floor (Tests/Bench/floor.c): a bare C sender, to show what libcurl, the kernel and
# nginx cost per request in each mode with nothing of Warncast in it.
FLOOR_CC=$(command -v cc || command -v gcc || command -v clang)
"$FLOOR_CC" -O2 -o "$WORK/floor" "$ROOT/Tests/Bench/floor.c" -lcurl -lcrypto
# Its body: a loudspeaker's JSON for the bench's warning, the size warncastd sends.
python3 - "$ROOT/Tests/Fixtures/rainstorm-red-province.xml" > "$WORK/floor-body.json" <<'PY'
import json, re, sys
cap = open(sys.argv[1], encoding="utf-8").read()
def field(name):
    found = re.search(f"<{name}>(.*?)</{name}>", cap, re.S)
    return found.group(1).strip() if found else ""
key = "9f1c2d3e-0000-4000-8000-000000000001"
sys.stdout.write(json.dumps({
    "cap": cap, "event": field("event"), "expires": field("expires") or None, "headline": field("headline"),
    "idempotencyKey": f"{key}/ls-1", "language": field("language") or "zh-CN", "level": "red", "msgType": "Alert",
    "repeat": 3, "text": field("headline") + "。" + field("description") + field("instruction"), "warning": key,
}, ensure_ascii=False, sort_keys=True, separators=(",", ":")))
PY

say "nginx on port $NGINX_PORT (every loopback address) and 127.0.0.1:$TLS_PORT (TLS)"
sed "s|@PORT@|$NGINX_PORT|; s|@TLSPORT@|$TLS_PORT|; s|@WORK@|$WORK|g" "$ROOT/Tests/Bench/nginx.conf" > "$WORK/nginx.conf"
nginx -c "$WORK/nginx.conf" -p "$WORK" -e "$WORK/nginx-error.log"

python3 - "$ROOT/Tests/Fixtures/rainstorm-red-province.xml" > "$WORK/payload.txt" <<'PY'
import json, sys
cap = open(sys.argv[1], encoding="utf-8").read()
print(json.dumps({"text": "湖南省气象台发布暴雨红色预警信号。停止集会、停课、停业；转移危险地带人员。", "repeat": 3, "cap": cap}, ensure_ascii=False))
PY

# Starts warncastd on $WARNCAST_CONFIG (its log in $1), makes the bench's tokens, submits
# the provincial red warning and gives its first approval. Sets URL, ISSUER, GOV (the
# second approver, whose approval releases it) and ID.
start_and_submit() {
    "$BIN/warncastd" --config "$WARNCAST_CONFIG" 2> "$1/warncastd.log" &
    DAEMON_PID=$!
    URL="http://127.0.0.1:$API_PORT"
    for _ in $(seq 1 1200); do curl -fs "$URL/healthz" > /dev/null 2>&1 && break; sleep 0.1; done
    curl -fs "$URL/healthz" > /dev/null
    local leader
    ISSUER=$("$BIN/warncast" token create --role issuer --department hn-weather --name bench-issuer 2>/dev/null)
    leader=$("$BIN/warncast" token create --role approver --department hn-weather --approval-role duty-leader --name bench-leader 2>/dev/null)
    GOV=$("$BIN/warncast" token create --role approver --region 430000 --approval-role government-leader --name bench-gov 2>/dev/null)
    ID=$(curl -fs -X POST "$URL/v1/warnings" -H "Authorization: Bearer $ISSUER" -H "Content-Type: application/cap+xml" \
        --data-binary @"$ROOT/Tests/Fixtures/rainstorm-red-province.xml" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    curl -fs -X POST "$URL/v1/warnings/$ID/approve" -H "Authorization: Bearer $leader" > /dev/null
}

# BENCH_PROFILE=1: a second into the release, perf records warncastd's call graphs for
# BENCH_PROFILE_SECONDS (3), unwound with DWARF because libsqlite3 and BoringSSL's assembly
# keep no frame pointers, and notes warncastd's CPU and the deliveries finished meanwhile
# in $2/profile.window. Only the recording runs during the release; split_profile reads it
# afterwards.
profile_release() {
    local out=$1 seconds=${BENCH_PROFILE_SECONDS:-3} cpu0 done0 done1
    sleep 1
    delivered() {
        python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1], timeout=30).execute("SELECT count(*) FROM delivery WHERE state = ?", ("delivered",)).fetchone()[0])' \
            "$out/data/warncast.sqlite"
    }
    cpu0=$(cpu_of "$DAEMON_PID")
    done0=$(delivered)
    perf record -q -F 499 --call-graph dwarf,16384 -p "$DAEMON_PID" -o "$out/perf.data" -- sleep "$seconds" 2> "$out/perf.log"
    done1=$(delivered)
    echo "$(python3 -c "print($(cpu_of "$DAEMON_PID") - $cpu0)") $((done1 - done0))" > "$out/profile.window"
}

# After the release: profile_split.py puts each recorded sample in one place of a
# delivery's path; with the window's CPU over its deliveries, microseconds per delivery.
# Writes $WORK/$1.profile, or says why there is none.
split_profile() {
    local mode=$1 out=$2 cpu count
    if [ ! -s "$out/profile.window" ]; then
        say "[$mode] no profile: perf did not record ($(tail -3 "$out/perf.log" 2>/dev/null | tr '\n' ' '))"
        return
    fi
    read -r cpu count < "$out/profile.window"
    perf script -i "$out/perf.data" 2>> "$out/perf.log" | swift demangle --simplified > "$out/perf.txt" || true
    if python3 "$ROOT/Tests/Bench/profile_split.py" "$out/perf.txt" "$cpu" "$count" > "$out/profile.tmp"; then
        mv "$out/profile.tmp" "$WORK/$mode.profile"
        say "[$mode] profile: $(head -2 "$WORK/$mode.profile" | tr '\n' ' ')"
    else
        say "[$mode] no profile (perf's messages: $(tail -3 "$out/perf.log" 2>/dev/null | tr '\n' ' '))"
    fi
}

# One mode: a fresh store and daemon, the release, the receipts, the ceiling and Apprise.
# Prints "name=value" lines into $WORK/$MODE.result.
run_mode() {
    local mode=$1 out="$WORK/$1"
    mkdir -p "$out"
    say "[$mode] $N loudspeakers in the example's 100 villages"
    python3 - "$N" "$mode" "$NGINX_PORT" "$TLS_PORT" > "$out/recipients.csv" <<'PY'
import sys
n, mode, port, tls_port = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
villages = [f"{county}{t:03d}{v:03d}" for county in ("430102", "430121") for t in range(1, 6) for v in range(1, 11)]
print("id,channel,region,name,address,secret,options")
for i in range(n):
    if mode == "keepalive":
        url = f"http://127.0.0.1:{port}/speaker/{i}"
    elif mode == "distinct":
        url = f"http://127.{1 + i // 62500}.{(i // 250) % 250}.{1 + i % 250}:{port}/speaker/{i}"
    else:
        url = f"https://t{i}.speakers.localhost:{tls_port}/speaker/{i}"
    print(f"ls-{i},loudspeaker,{villages[i % len(villages)]},大喇叭 {i},{url},,repeat=3")
PY
    sed -e "s|port: 8080|port: $API_PORT|" \
        -e "s|data_dir: ../data|data_dir: $out/data|" \
        -e "s|signing_key_file: ../data/signing-keys.json|signing_key_file: $out/data/signing-keys.json|" \
        -e "s|    # ca_bundle: /etc/warncast/ca.pem|    ca_bundle: $WORK/tls/ca.pem|" \
        -e "s|  # recipients: recipients.csv|  recipients: $out/recipients.csv|" \
        -e "s|file: divisions-cn.csv|file: $ROOT/config/divisions-cn.csv|" \
        -e "s|file: regions-villages.csv|file: $ROOT/config/regions-villages.csv|" \
        -e "s|departments: departments.example.csv|departments: $ROOT/config/departments.example.csv|" \
        -e "s|level: info|level: warning|" \
        "$ROOT/config/warncast.example.yaml" > "$out/warncast.yaml"
    export WARNCAST_CONFIG="$out/warncast.yaml"

    say "[$mode] warncastd (release build)"
    start_and_submit "$out"
    local url=$URL issuer=$ISSUER gov=$GOV id=$ID

    say "[$mode] release: the second approval"
    local start approve_ms
    start=$(date +%s.%N)
    approve_ms=$(curl -fs -o /dev/null -w '%{time_total}' -X POST "$url/v1/warnings/$id/approve" -H "Authorization: Bearer $gov" |
        awk '{printf "%.0f", $1 * 1000}')
    # The operator's view, every half second: each look counts the warning's deliveries by
    # state in the daemon, which at 10 a second cost it a noticeable share of 2 cores.
    local seen
    if [ "${BENCH_PROFILE:-0}" = 1 ]; then
        profile_release "$out" &
        PROFILER=$!
    fi
    seen=$(python3 "$ROOT/Tests/Bench/wait_receipts.py" "$url" "$id" "$issuer" "$N" 0.5)
    if [ -n "$PROFILER" ]; then
        wait "$PROFILER" || true
        PROFILER=""
        split_profile "$mode" "$out"
    fi
    local wall rss_kb cpu_s
    wall=$(python3 -c "print(f'{$seen - $start:.2f}')")
    rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$DAEMON_PID/status")
    cpu_s=$(cpu_of "$DAEMON_PID")

    # The auditor's views of the same warning, timed at the client: median of five.
    median_ms() {
        for _ in 1 2 3 4 5; do
            curl -fs -o /dev/null -w '%{time_total}\n' "$url$1" -H "Authorization: Bearer $issuer"
        done | sort -n | sed -n 3p | python3 -c 'import sys; print(f"{float(sys.stdin.read()) * 1000:.0f}")'
    }
    say "[$mode] per-tier report and timeline of $N deliveries"
    local report_ms timeline_ms
    report_ms=$(median_ms "/v1/warnings/$id/report?depth=village")
    timeline_ms=$(median_ms "/v1/warnings/$id/timeline")

    # Intake, once per run (in the first mode): distinct CAP messages submitted by wrk,
    # 10 connections each pausing 100 ms after every answer (about 100 submissions/s), then
    # 200 connections as fast as they go. Every answer must be 201.
    if [ ! -f "$WORK/intake.result" ]; then
        local intake
        say "[$mode] intake: about 100 submissions/s for 10 s, then 200 connections for 10 s"
        intake=$(wrk -t1 -c10 -d10s --latency -s "$ROOT/Tests/Bench/intake.lua" "$url/v1/warnings" \
            -- "$ROOT/Tests/Fixtures/rainstorm-red-province.xml" "$issuer" 100)
        echo "$intake" >&2
        {
            echo "steady_rate=$(awk '/Requests\/sec/ {printf "%.0f", $2}' <<< "$intake")"
            echo "steady_p50=$(awk '$1 == "50%" {print $2}' <<< "$intake")"
            echo "steady_p99=$(awk '$1 == "99%" {print $2}' <<< "$intake")"
            echo "steady_errors=$(awk '/Non-2xx/ {print $NF}' <<< "$intake")"
        } > "$WORK/intake.result"
        intake=$(wrk -t2 -c200 -d10s --latency -s "$ROOT/Tests/Bench/intake.lua" "$url/v1/warnings" \
            -- "$ROOT/Tests/Fixtures/rainstorm-red-province.xml" "$issuer")
        echo "$intake" >&2
        {
            echo "burst_rate=$(awk '/Requests\/sec/ {printf "%.0f", $2}' <<< "$intake")"
            echo "burst_p50=$(awk '$1 == "50%" {print $2}' <<< "$intake")"
            echo "burst_p99=$(awk '$1 == "99%" {print $2}' <<< "$intake")"
            echo "burst_errors=$(awk '/Non-2xx/ {print $NF}' <<< "$intake")"
        } >> "$WORK/intake.result"
    fi
    kill "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true; DAEMON_PID=""

    python3 - "$out/data/warncast.sqlite" "$id" > "$WORK/$mode.result" <<'PY'
import sqlite3, sys
from datetime import datetime
db = sqlite3.connect(sys.argv[1]); wid = sys.argv[2]
def ts(text): return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
released = db.execute("SELECT releasedAt FROM warning WHERE id = ?", (wid,)).fetchone()[0]
last = db.execute("SELECT max(deliveredAt) FROM delivery WHERE warningID = ?", (wid,)).fetchone()[0]
# An attempt's time is when its answer was recorded; less its duration, when it was sent.
rows = db.execute("SELECT a.at, a.milliseconds FROM attempt a JOIN delivery d ON d.id = a.deliveryID WHERE d.warningID = ?", (wid,)).fetchall()
first = min(ts(at) - ms / 1000 for at, ms in rows) if rows else ts(released)
counts = dict(db.execute("SELECT state, count(*) FROM delivery WHERE warningID = ? GROUP BY state", (wid,)).fetchall())
ms = sorted(r[1] for r in rows)
pick = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))] if ms else 0
print(f"delivered={counts.get('delivered', 0)}")
print(f"failed={counts.get('failed', 0)}")
print(f"seconds={ts(last) - ts(released):.2f}")
print(f"first_ms={(first - ts(released)) * 1000:.0f}")
print(f"p50={pick(0.50)}")
print(f"p99={pick(0.99)}")
PY
    {
        echo "wall=$wall"; echo "rss_mb=$((rss_kb / 1024))"; echo "cpu_s=$cpu_s"
        echo "approve_ms=$approve_ms"; echo "report_ms=$report_ms"; echo "timeline_ms=$timeline_ms"
    } >> "$WORK/$mode.result"

    local target close=()
    case $mode in
        keepalive) target="http://127.0.0.1:$NGINX_PORT/speaker/1" ;;
        distinct) target="http://127.0.0.1:$NGINX_PORT/speaker/1"; close=(-H "Connection: close") ;;
        tls) target="https://127.0.0.1:$TLS_PORT/speaker/1"; close=(-H "Connection: close") ;;
    esac
    say "[$mode] wrk: the ceiling of the same nginx (2 KB POST, 64 connections${close:+, a new connection per request}, 5 s)"
    echo "wrk=$(wrk -t2 -c64 -d5s "${close[@]}" -s "$ROOT/Tests/Bench/post.lua" "$target" | awk '/Requests\/sec/ {printf "%.0f", $2}')" >> "$WORK/$mode.result"

    # The floor: the same requests from a bare C sender (one thread, 256 in flight), with
    # nginx's CPU for them; what is left of the 2 cores' budget is what signing, the store
    # and everything else of a delivery may cost.
    local floor_n=${BENCH_FLOOR:-20000} floor_port=$NGINX_PORT floor_ca=() worker nginx_cpu0
    if [ "$mode" = tls ]; then
        floor_n=${BENCH_FLOOR_TLS:-4000}
        floor_port=$TLS_PORT
        floor_ca=("$WORK/tls/ca.pem")
    fi
    say "[$mode] the floor: $floor_n requests from a bare C sender (libcurl, Ed25519, no store)"
    worker=$(pgrep -P "$(cat "$WORK/nginx.pid")" | head -1)
    nginx_cpu0=$(cpu_of "$worker")
    "$WORK/floor" "$mode" "$floor_n" 256 "$floor_port" "$WORK/floor-body.json" "${floor_ca[@]}" | tr ' ' '\n' >> "$WORK/$mode.result" || true
    {
        echo "floor_n=$floor_n"
        echo "floor_nginx_s=$(python3 -c "print(f'{$(cpu_of "$worker") - $nginx_cpu0:.2f}')")"
    } >> "$WORK/$mode.result"

    say "[$mode] Apprise: the same payload to $APPRISE_N JSON webhooks"
    local apprise
    apprise=$(REQUESTS_CA_BUNDLE="$WORK/tls/ca.pem" python3 "$ROOT/Tests/Bench/apprise_rate.py" "$APPRISE_N" "$mode" \
        "$([ "$mode" = tls ] && echo "$TLS_PORT" || echo "$NGINX_PORT")" "$WORK/payload.txt")
    read -r _ a_seconds a_rate a_ok <<< "$apprise"
    { echo "apprise_rate=$a_rate"; echo "apprise_seconds=$a_seconds"; echo "apprise_ok=$a_ok"; } >> "$WORK/$mode.result"
    cat "$WORK/$mode.result" >&2
}

# 1,000,000 recipients: how a release that large is answered and planned, the CLI's import,
# and the per-tier report of 1,000,000 deliveries. Not a whole fan-out: the loudspeaker
# channel is held to 5 requests/s (so the first request still shows when sending starts)
# and the daemon is stopped once planning is done and measured. Prints "name=value" lines into million.result.
run_million() {
    local out="$WORK/million" n=${BENCH_MILLION:-1000000}
    mkdir -p "$out"
    say "[million] $n loudspeakers, each its own loopback address"
    python3 - "$n" "$NGINX_PORT" > "$out/recipients.csv" <<'PY'
import sys
n, port = int(sys.argv[1]), sys.argv[2]
villages = [f"{county}{t:03d}{v:03d}" for county in ("430102", "430121") for t in range(1, 6) for v in range(1, 11)]
print("id,channel,region,name,address,secret,options")
for i in range(n):
    print(f"ls-{i:07d},loudspeaker,{villages[i % len(villages)]},大喇叭 {i},http://127.{1 + i // 62500 % 250}.{(i // 250) % 250}.{1 + i % 250}:{port}/speaker/{i},,repeat=3")
PY
    sed -e "s|port: 8080|port: $API_PORT|" \
        -e "s|data_dir: ../data|data_dir: $out/data|" \
        -e "s|signing_key_file: ../data/signing-keys.json|signing_key_file: $out/data/signing-keys.json|" \
        -e "s|file: divisions-cn.csv|file: $ROOT/config/divisions-cn.csv|" \
        -e "s|file: regions-villages.csv|file: $ROOT/config/regions-villages.csv|" \
        -e "s|departments: departments.example.csv|departments: $ROOT/config/departments.example.csv|" \
        -e "s|level: info|level: warning|" \
        -e "s|      rate_per_second: 0        # 0: no limit|      rate_per_second: 5|" \
        "$ROOT/config/warncast.example.yaml" > "$out/warncast.yaml"
    grep -q "rate_per_second: 5" "$out/warncast.yaml"
    export WARNCAST_CONFIG="$out/warncast.yaml"
    say "[million] warncast recipients import (the CLI, straight into the store)"
    /usr/bin/time -o "$out/import.time" -f 'import_rss_kb=%M import_seconds=%e' \
        "$BIN/warncast" recipients import "$out/recipients.csv" > /dev/null 2>&1
    tr ' ' '\n' < "$out/import.time" > "$WORK/million.result"

    start_and_submit "$out"
    local url=$URL issuer=$ISSUER gov=$GOV id=$ID approve_ms
    say "[million] release, and planning in steps"
    approve_ms=$(curl -fs -o /dev/null -w '%{time_total}' -X POST "$url/v1/warnings/$id/approve" -H "Authorization: Bearer $gov" |
        awk '{printf "%.0f", $1 * 1000}')
    echo "approve_ms=$approve_ms" >> "$WORK/million.result"
    # Planning is done when the release's deliveries.planned audit entry is written.
    python3 - "$out/data/warncast.sqlite" "$id" >> "$WORK/million.result" <<'PY'
import sqlite3, sys, time
from datetime import datetime
db = sqlite3.connect(sys.argv[1], timeout=30); wid = sys.argv[2]
def ts(text): return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
for _ in range(6000):
    row = db.execute("SELECT at, detail FROM audit WHERE action = 'deliveries.planned' AND subject = ?", (wid,)).fetchone()
    if row: break
    time.sleep(0.1)
released = db.execute("SELECT releasedAt FROM warning WHERE id = ?", (wid,)).fetchone()[0]
rows = db.execute("SELECT a.at, a.milliseconds FROM attempt a JOIN delivery d ON d.id = a.deliveryID WHERE d.warningID = ? AND a.rowid IN (SELECT rowid FROM attempt ORDER BY rowid LIMIT 2000)", (wid,)).fetchall()
first = min(ts(at) - ms / 1000 for at, ms in rows) if rows else None
print(f"planned_s={ts(row[0]) - ts(released):.2f}" if row else "planned_s=not-finished")
print(f"planned_count={db.execute('SELECT count(*) FROM delivery WHERE warningID = ?', (wid,)).fetchone()[0]}")
print(f"first_ms={(first - ts(released)) * 1000:.0f}" if first else "first_ms=-")
PY
    local report=()
    for _ in 1 2 3 4 5; do
        report+=("$(curl -fs -o /dev/null -w '%{time_total}' "$url/v1/warnings/$id/report?depth=village" -H "Authorization: Bearer $issuer")")
    done
    echo "report_ms=$(printf '%s\n' "${report[@]}" | sort -n | sed -n 3p | python3 -c 'import sys; print(f"{float(sys.stdin.read()) * 1000:.0f}")')" >> "$WORK/million.result"
    echo "rss_mb=$(( $(awk '/VmHWM/ {print $2}' "/proc/$DAEMON_PID/status") / 1024 ))" >> "$WORK/million.result"
    kill "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true; DAEMON_PID=""
    cat "$WORK/million.result" >&2
}

# Dial-in terminals: BENCH_DIALIN (15,000) terminals hold a connection each
# (Tests/Bench/dialin_fleet.py, one process of asyncio on uvloop), the red warning is
# pushed down all of them and each acknowledges it. Prints "name=value" lines into dialin.result.
run_dialin() {
    local out="$WORK/dialin" n=${BENCH_DIALIN:-15000}
    mkdir -p "$out"
    say "[dialin] $n terminals that dial in"
    python3 - "$n" > "$out/recipients.csv" <<'PY'
import sys
n = int(sys.argv[1])
villages = [f"{county}{t:03d}{v:03d}" for county in ("430102", "430121") for t in range(1, 6) for v in range(1, 11)]
print("id,channel,region,name,address,secret,options")
for i in range(n):
    print(f"dl-{i:05d},loudspeaker,{villages[i % len(villages)]},大喇叭 {i},dial-in,bench-secret,")
PY
    sed -e "s|port: 8080|port: $API_PORT|" \
        -e "s|data_dir: ../data|data_dir: $out/data|" \
        -e "s|signing_key_file: ../data/signing-keys.json|signing_key_file: $out/data/signing-keys.json|" \
        -e "s|file: divisions-cn.csv|file: $ROOT/config/divisions-cn.csv|" \
        -e "s|file: regions-villages.csv|file: $ROOT/config/regions-villages.csv|" \
        -e "s|departments: departments.example.csv|departments: $ROOT/config/departments.example.csv|" \
        -e "s|level: info|level: warning|" \
        "$ROOT/config/warncast.example.yaml" > "$out/warncast.yaml"
    export WARNCAST_CONFIG="$out/warncast.yaml"
    "$BIN/warncast" recipients import "$out/recipients.csv" > /dev/null 2>&1
    start_and_submit "$out"
    local url=$URL gov=$GOV id=$ID
    say "[dialin] $n connections"
    python3 "$ROOT/Tests/Bench/dialin_fleet.py" 127.0.0.1 "$API_PORT" dl- "$n" bench-secret "$out/fleet.status" 2> "$out/fleet.log" &
    local fleet=$!
    for _ in $(seq 1 1500); do grep -q '^connected=' "$out/fleet.status" 2>/dev/null && break; sleep 0.1; done
    grep '^connected=' "$out/fleet.status" > "$WORK/dialin.result"
    echo "rss_connected_mb=$(( $(awk '/VmRSS/ {print $2}' "/proc/$DAEMON_PID/status") / 1024 ))" >> "$WORK/dialin.result"
    say "[dialin] release: the red warning pushed to every connection"
    local approved daemon_cpu
    daemon_cpu=$(cpu_of "$DAEMON_PID")
    # BENCH_PROFILE=1: perf records the whole push, from just before the approval until
    # every receipt is stored (warncastd idles meanwhile but for keep-alives every 15 s).
    if [ "${BENCH_PROFILE:-0}" = 1 ]; then
        perf record -q -F 499 --call-graph dwarf,16384 -p "$DAEMON_PID" -o "$out/perf.data" 2> "$out/perf.log" &
        PROFILER=$!
        sleep 0.5
    fi
    approved=$(python3 -c 'import time; print(f"{time.time():.3f}")')
    curl -fs -o /dev/null -X POST "$url/v1/warnings/$id/approve" -H "Authorization: Bearer $gov"
    # Receipts stored: every delivery delivered in the store.
    python3 - "$out/data/warncast.sqlite" "$id" "$n" "$approved" >> "$WORK/dialin.result" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=30); wid, n, approved = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
count = 0
for _ in range(6000):
    count = db.execute("SELECT count(*) FROM delivery WHERE warningID = ? AND state = 'delivered'", (wid,)).fetchone()[0]
    if count >= n: break
    time.sleep(0.02)
print(f"stored_s={time.time() - approved:.2f}")
print(f"stored_count={count}")
PY
    # warncastd's CPU from the approval to the last receipt: the span perf recorded.
    local stored_cpu
    stored_cpu=$(python3 -c "print(f'{$(cpu_of "$DAEMON_PID") - $daemon_cpu:.2f}')")
    if [ -n "$PROFILER" ]; then
        kill -INT "$PROFILER" 2>/dev/null || true
        wait "$PROFILER" || true
        PROFILER=""
    fi
    for _ in $(seq 1 600); do grep -q '^finished=' "$out/fleet.status" && break; sleep 0.1; done
    # What the push cost each side. The fleet is one Python process and counts its own CPU
    # from the first event to the last acknowledgement: close to that span in seconds means
    # the fleet, not warncastd, set the pace.
    echo "daemon_push_cpu_s=$(python3 -c "print(f'{$(cpu_of "$DAEMON_PID") - $daemon_cpu:.2f}')")" >> "$WORK/dialin.result"
    python3 - "$out/fleet.status" "$approved" >> "$WORK/dialin.result" <<'PY'
import sys
values = dict(line.strip().split("=", 1) for line in open(sys.argv[1]) if "=" in line)
approved = float(sys.argv[2])
for name in ("first_event", "last_event", "last_ack"):
    print(f"{name}_s={float(values.get(name, 0)) - approved:.2f}")
print(f"fleet_push_cpu_s={values.get('cpu', '-')}")
print(f"acked={values.get('acked', 0)}")
PY
    echo "rss_peak_mb=$(( $(awk '/VmHWM/ {print $2}' "/proc/$DAEMON_PID/status") / 1024 ))" >> "$WORK/dialin.result"
    kill "$fleet" 2>/dev/null || true
    kill "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true; DAEMON_PID=""
    cat "$WORK/dialin.result" >&2
    if [ -s "$out/perf.data" ]; then
        # shellcheck disable=SC1091
        . "$WORK/dialin.result"
        perf script -i "$out/perf.data" 2>> "$out/perf.log" | swift demangle --simplified > "$out/perf.txt" || true
        if python3 "$ROOT/Tests/Bench/profile_split.py" --dialin "$out/perf.txt" "$stored_cpu" "$stored_count" > "$out/profile.tmp"; then
            mv "$out/profile.tmp" "$WORK/dialin.profile"
            say "[dialin] profile: $(head -2 "$WORK/dialin.profile" | tr '\n' ' ')"
        else
            say "[dialin] no profile (perf's messages: $(tail -3 "$out/perf.log" 2>/dev/null | tr '\n' ' '))"
        fi
    fi
}

for mode in $MODES; do
    case $mode in
        million) run_million ;;
        dialin) run_dialin ;;
        *) run_mode "$mode" ;;
    esac
done
TABLE_MODES=$(for mode in $MODES; do case $mode in million | dialin) ;; *) printf '%s ' "$mode" ;; esac; done)

# The table: one column per mode.
TABLE=$(python3 - "$WORK" "$N" "$APPRISE_N" "$(python3 -c 'import apprise; print(apprise.__version__)')" $TABLE_MODES <<'PY'
import sys
import os
work, n, apprise_n, apprise_version, modes = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5:]
cores = os.cpu_count()
names = {"keepalive": "keep-alive (one host)", "distinct": "distinct hosts, HTTP", "tls": "distinct hosts, HTTPS verified"}
results = {}
for mode in modes:
    values = dict(line.strip().split("=", 1) for line in open(f"{work}/{mode}.result") if "=" in line)
    delivered = int(values["delivered"]); seconds = float(values["seconds"])
    rate = delivered / seconds if seconds > 0 else 0
    apprise = float(values["apprise_rate"]); wrk = float(values["wrk"] or 0)
    values.update(rate=f"{rate:.0f}", ratio=f"{rate / apprise:.1f} ×" if apprise else "-",
                  share=f"{rate / wrk * 100:.0f} %" if wrk else "-")
    # The targets as CPU per delivery: what the machine's cores have for one delivery if the
    # target is met (keep-alive 6 s, distinct hosts 12 s for 100,000; HTTPS half the
    # ceiling's rate), less what the floor's libcurl and nginx took for one request.
    floor_n = int(values["floor_n"])
    curl_us = (float(values["floor_cpu_s"]) * 1e6 - float(values["floor_sign_us"]) * floor_n) / floor_n
    nginx_us = float(values["floor_nginx_s"]) * 1e6 / floor_n
    budget_us = cores * 1e6 * ({"keepalive": 6, "distinct": 12}[mode] / 100000 if mode != "tls" else 2 / wrk)
    values.update(
        floor_rate=f"{floor_n / float(values['floor_wall_s']):.0f}", curl_us=f"{curl_us:.0f}", nginx_us=f"{nginx_us:.0f}",
        budget_us=f"{budget_us:.0f}", left_us=f"{budget_us - curl_us - nginx_us:.0f}",
        daemon_us=f"{float(values['cpu_s']) * 1e6 / n:.0f}")
    results[mode] = values
rows = [
    ("delivered / failed", lambda v: f"{v['delivered']} / {v['failed']}"),
    ("release to last receipt stored (store's timestamps)", lambda v: f"**{v['seconds']} s**"),
    ("release to all receipts seen through the API (polled every 0.5 s)", lambda v: f"{v['wall']} s"),
    ("the releasing approval's answer", lambda v: f"{v['approve_ms']} ms"),
    ("release to the first request sent", lambda v: f"{v['first_ms']} ms"),
    ("deliveries per second", lambda v: v["rate"]),
    ("per-delivery latency p50 / p99 (request sent to answer read)", lambda v: f"{v['p50']} ms / {v['p99']} ms"),
    ("warncastd CPU time for the whole run", lambda v: f"{v['cpu_s']} s"),
    ("peak RSS of warncastd (VmHWM)", lambda v: f"{v['rss_mb']} MB"),
    ("ceiling: wrk, same nginx, 2 KB POST, 64 connections", lambda v: f"{v['wrk']} requests/s"),
    ("warncast as a share of that ceiling", lambda v: v["share"]),
    (f"Apprise {apprise_version}, {apprise_n} JSON webhooks, same payload", lambda v: f"{v['apprise_rate']} /s ({v['apprise_seconds']} s, {v['apprise_ok']})"),
    ("warncast / Apprise", lambda v: v["ratio"]),
    ("floor: a bare C sender, one thread, 256 in flight (libcurl as warncastd drives it, Ed25519 by OpenSSL, no store)",
     lambda v: f"{v['floor_rate']} requests/s ({v['floor_answered']} of {v['floor_n']} answered)"),
    ("the floor's CPU per request: libcurl with the kernel's socket work / signing", lambda v: f"{v['curl_us']} µs / {v['floor_sign_us']} µs"),
    ("nginx's CPU per request of the floor", lambda v: f"{v['nginx_us']} µs"),
    ("the target as CPU per delivery (cores × target time ÷ deliveries)", lambda v: f"{v['budget_us']} µs"),
    ("of that, left once libcurl and nginx have had theirs: for signing, the store and the rest", lambda v: f"**{v['left_us']} µs**"),
    ("warncastd's CPU per delivery, whole run (planning, sending, receipts, the API)", lambda v: f"{v['daemon_us']} µs"),
    ("`GET …/report?depth=village`, median of 5", lambda v: f"{v['report_ms']} ms"),
    ("`GET …/timeline`, median of 5", lambda v: f"{v['timeline_ms']} ms"),
]
print("| " + f"{n} loudspeakers | " + " | ".join(names[m] for m in modes) + " |")
print("| --- |" + " --- |" * len(modes))
for label, cell in rows:
    print(f"| {label} | " + " | ".join(cell(results[m]) for m in modes) + " |")
PY
)
INTAKE=""
if [ -f "$WORK/intake.result" ]; then
    # shellcheck disable=SC1091
    . "$WORK/intake.result"
    INTAKE=$(cat <<MD
| intake: distinct CAP messages, \`POST /v1/warnings\` | submissions/s | p50 | p99 | answers not 201 |
| --- | --- | --- | --- | --- |
| 10 connections, each pausing 100 ms after every answer | $steady_rate | $steady_p50 | **$steady_p99** | ${steady_errors:-0} |
| 200 connections, as fast as they go | **$burst_rate** | $burst_p50 | $burst_p99 | ${burst_errors:-0} |
MD
)
fi
MILLION=""
if [ -f "$WORK/million.result" ]; then
    # shellcheck disable=SC1091
    . "$WORK/million.result"
    MILLION=$(cat <<MD
| ${BENCH_MILLION:-1000000} loudspeakers, each its own host | value |
| --- | --- |
| \`warncast recipients import\` of the CSV: time, peak RSS | $import_seconds s, $((import_rss_kb / 1024)) MB |
| the releasing approval's answer | **$approve_ms ms** |
| release to the first request sent | **$first_ms ms** |
| release to planning finished (\`deliveries.planned\` audit entry), deliveries planned | **$planned_s s**, $planned_count |
| \`GET …/report?depth=village\` once planned, median of 5 | **$report_ms ms** |
| peak RSS of warncastd by then | $rss_mb MB |
MD
)
fi
DIALIN=""
if [ -f "$WORK/dialin.result" ]; then
    # shellcheck disable=SC1091
    . "$WORK/dialin.result"
    DIALIN=$(cat <<MD
| ${BENCH_DIALIN:-15000} dial-in terminals (Server-Sent Events) | value |
| --- | --- |
| connections held | **$connected** |
| warncastd RSS holding them | **$rss_connected_mb MB** |
| approval to the first push read by a terminal | $first_event_s s |
| approval to the last push read | $last_event_s s |
| approval to every receipt stored (\`delivered\`), deliveries | **$stored_s s**, $stored_count |
| approval to the last acknowledgement answered | $last_ack_s s |
| CPU seconds during the push: warncastd / the fleet (first event to last acknowledgement) | $daemon_push_cpu_s / $fleet_push_cpu_s |
| peak RSS of warncastd | $rss_peak_mb MB |
MD
)
    if [ -s "$WORK/dialin.profile" ]; then
        DIALIN+=$'\n\n'"Where each push's CPU went (\`BENCH_PROFILE=1\`: perf recorded warncastd over the whole push, from"
        DIALIN+=$'\n'"just before the approval to the last receipt, split by \`Tests/Bench/profile_split.py --dialin\`; a"
        DIALIN+=$'\n'"sample counts for the first place in this order that its stack passes through):"$'\n\n'
        DIALIN+=$(python3 - "$WORK/dialin.profile" <<'PY'
import sys
print("| where a push's CPU goes (warncastd) | value |")
print("| --- | --- |")
for line in open(sys.argv[1], encoding="utf-8"):
    name, _, value = line.rstrip("\n").partition("=")
    if name == "samples":
        print(f"| samples | {value} |")
    elif name == "us_per_delivery":
        print(f"| CPU per push, its acknowledgement and receipt | **{value} µs** |")
    else:
        share, _, micros = value.partition("=")
        print(f"| {name} | {micros} µs ({share} %) |")
PY
)
    fi
fi
PROFILE=""
PROFILED=$(for mode in $TABLE_MODES; do [ -s "$WORK/$mode.profile" ] && printf '%s ' "$mode"; done || true)
if [ -n "$PROFILED" ]; then
    PROFILE=$(python3 - "$WORK" $PROFILED <<'PY'
import sys
work, modes = sys.argv[1], sys.argv[2:]
names = {"keepalive": "keep-alive", "distinct": "distinct hosts, HTTP", "tls": "distinct hosts, HTTPS"}
places, values = [], {}
for mode in modes:
    for line in open(f"{work}/{mode}.profile", encoding="utf-8"):
        name, _, value = line.rstrip("\n").partition("=")
        if name not in places:
            places.append(name)
        values[(mode, name)] = value
def cell(mode, name):
    value = values.get((mode, name), "")
    if name == "us_per_delivery":
        return f"**{value} µs**"
    if name == "samples":
        return value
    share, _, micros = value.partition("=")
    return f"{micros} µs ({share} %)"
labels = {"us_per_delivery": "CPU per delivery while perf was attached", "samples": "samples"}
print("| where a delivery's CPU goes | " + " | ".join(names[m] for m in modes) + " |")
print("| --- |" + " --- |" * len(modes))
for name in places:
    print(f"| {labels.get(name, name)} | " + " | ".join(cell(m, name) for m in modes) + " |")
PY
)
fi
PROFILE_SECTION=""
if [ -n "$PROFILE" ]; then
    PROFILE_SECTION=$(cat <<MD
Where each delivery's CPU went in the three HTTP releases of the first table
(\`BENCH_PROFILE=1\`: perf recorded warncastd for ${BENCH_PROFILE_SECONDS:-3} s from a second into
each release, call graphs unwound with DWARF and split by \`Tests/Bench/profile_split.py\`
afterwards; a sample counts for the first place in this order that its stack passes
through, and the libcurl row includes the kernel's socket work libcurl asks for). While
perf records, its sampling costs warncastd a few per cent, so those releases were a
little slower than unprofiled ones:

$PROFILE

MD
)
    PROFILE_SECTION+=$'\n\n'
fi
echo "$TABLE"
echo "$PROFILE"
echo "$INTAKE"
echo "$MILLION"
echo "$DIALIN"
CPU=$(awk -F: '/model name/ {gsub(/^ +/, "", $2); print $2; exit}' /proc/cpuinfo)
MEM=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
# Sections after the table (from "## Profile" on) are kept as they are. BENCH_DOC writes
# elsewhere (a run of some modes only should not replace the whole page).
DOC=${BENCH_DOC:-$ROOT/docs/benchmarks.md}
KEEP=$(sed -n '/^## Profile$/,$p' "$ROOT/docs/benchmarks.md" 2>/dev/null || true)
[ -n "$KEEP" ] || KEEP=$(sed -n '/^## Soak$/,$p' "$ROOT/docs/benchmarks.md" 2>/dev/null || true)
cat > "$DOC" <<MD
# Benchmarks

Produced by \`make bench\` (\`Tests/Bench/bench.sh\`); rerun it to refresh this page. A
provincial red warning (430000) is released to $N loudspeaker endpoints registered in the
example's 100 villages, in three modes, each with a fresh store. Every endpoint is served by
one nginx on loopback that answers \`{"ack":true}\`, so each delivery is a signed HTTP POST
of about 3 KB (CAP XML inside JSON) whose receipt is stored as \`delivered\`:

- **keep-alive**: every endpoint is a path of \`127.0.0.1\`, so libcurl reuses a few
  connections. The best case, and the case of a gateway.
- **distinct hosts, HTTP**: every endpoint has its own loopback address
  (\`http://127.B.C.D:port/speaker/N\`), as every village terminal is its own host in the
  field: one new TCP connection per delivery. The ceiling is wrk with \`Connection: close\`.
- **distinct hosts, HTTPS verified**: every endpoint has its own name
  (\`https://tN.speakers.localhost:port/…\`, which libcurl resolves to loopback itself),
  the certificate (\`*.speakers.localhost\`, ECDSA P-256) is verified against a test CA made
  by the bench and given to warncastd as \`dispatch.tls.ca_bundle\`: one full TLS handshake
  per delivery. The ceiling is wrk with \`Connection: close\` over TLS (wrk does not verify).

warncastd is the release build with the example configuration (loudspeaker channel: 256
concurrent requests, no rate limit). Apprise sends to $APPRISE_N endpoints in the same mode.

The floor (\`Tests/Bench/floor.c\`, ${BENCH_FLOOR:-20000} requests, ${BENCH_FLOOR_TLS:-4000} over HTTPS) sends the same
requests from a bare C program: one thread driving libcurl's multi interface as warncastd's
engine does (a new handle per request, 256 in flight, the connection not kept when every
request goes to a host of its own), each body signed with Ed25519 (OpenSSL) over the bytes
docs/signing.md names, nothing stored. A target, turned into CPU per delivery on this
machine's cores, less the floor's libcurl and nginx's share, is what signing, the store and
everything else of warncastd may spend per delivery if the target is to be met.

Machine: $(nproc) cores ($CPU), $MEM, $(. /etc/os-release; echo "$PRETTY_NAME"), measured $(date -u +%Y-%m-%d).
nginx, wrk, Apprise and warncastd share the machine, so the figures are a ratio of one
another more than absolutes; compare them within one run.

$TABLE

A million recipients (distinct hosts). This measures the release and the planning, not a
fan-out: the channel is held to 5 requests/s and the daemon is stopped once planning is
done and the report timed:

$MILLION

Terminals that dial in: each holds a connection to warncastd (one asyncio process on
uvloop plays them all, acknowledging through 48 keep-alive connections); the red warning
is pushed down every connection and acknowledged, and the receipts are counted in the
store:

$DIALIN

${PROFILE_SECTION}Intake, measured by wrk against the same warncastd after the first mode's release (each
submission a new warning awaiting approval, written with its audit entry before the 201):

$INTAKE

Targets (issue 14): keep-alive ≤ 6 s; distinct hosts ≤ 12 s and at least 10 times Apprise's
rate; HTTPS at least half of its ceiling; RSS ≤ 300 MB; the per-tier report of 100,000
deliveries ≤ 200 ms; intake p99 ≤ 20 ms at 100 submissions/s and at least 1,000
submissions/s with 200 connections. Dial-in (issue 15): 15,000 connections held with RSS
under 500 MB, and the red warning pushed to all with receipts stored in under 2 s.
MD
if [ -n "$KEEP" ]; then printf '\n%s\n' "$KEEP" >> "$DOC"; fi
say "wrote $DOC"
