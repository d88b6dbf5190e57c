"""Where a delivery's CPU goes: reads `perf script` output (call graphs unwound with DWARF,
Swift names demangled) recorded on warncastd during a release, and puts every
sample in one place of the delivery's path. A sample counts for the first place, in the
order below, that any frame of its stack belongs to.

    profile_split.py PERF_SCRIPT_TEXT CPU_SECONDS DELIVERIES

prints `place=share=microseconds` lines: the share of the samples and, with the CPU time
and the deliveries finished while perf was attached, microseconds of CPU per delivery.
"""
import re
import sys

PLACES = [
    ("signing the request (Ed25519, swift-crypto)", lambda frames, dsos: any("MessageSigner." in f for f in frames)),
    ("SQLite: the receipt's seal (hash chain)", lambda frames, dsos: any("Seals.append" in f for f in frames)),
    ("SQLite: leasing (select due deliveries, mark them sending)", lambda frames, dsos: any("Deliveries.lease" in f for f in frames)),
    ("SQLite: the delivery's new state", lambda frames, dsos: any("Deliveries.record(_:" in f for f in frames)
     and any("DeliveryRecord.write" in f for f in frames)),
    ("SQLite: the attempt row (and reading the records back)", lambda frames, dsos: any("Deliveries.record(_:" in f for f in frames)),
    # `swift demangle --simplified` drops module names: GRDB shows as its types.
    ("SQLite: commits, WAL, the API's reads", lambda frames, dsos: any("libsqlite3" in d for d in dsos)
     or any("Database" in f for f in frames)),
    ("building the request (body, headers)", lambda frames, dsos: any(".request(for:" in f or "MessageCache" in f for f in frames)),
    ("libcurl, with the kernel's socket work it asks for", lambda frames, dsos: any("libcurl" in d for d in dsos)),
    ("handing requests to and from the curl engine", lambda frames, dsos: any(
        "EngineLoop" in f or "ActiveTransfer" in f or "CurlEngine" in f for f in frames)),
]
REST = "the rest: tasks, scheduling, retain/release, malloc"

FRAME = re.compile(r"^\s*[0-9a-f]+ (.*) \((.*)\)$")


def main():
    text, cpu, deliveries = open(sys.argv[1], encoding="utf-8", errors="replace").read(), float(sys.argv[2]), int(sys.argv[3])
    counts = {name: 0 for name, _ in PLACES}
    counts[REST] = 0
    total = 0
    for sample in text.split("\n\n"):
        lines = sample.strip().split("\n")
        if len(lines) < 2:
            continue
        frames, dsos = [], []
        for line in lines[1:]:
            match = FRAME.match(line)
            if match:
                frames.append(match.group(1))
                dsos.append(match.group(2))
        total += 1
        for name, belongs in PLACES:
            if belongs(frames, dsos):
                counts[name] += 1
                break
        else:
            counts[REST] += 1
    if total == 0 or deliveries <= 0:
        sys.exit(f"profile_split: {total} samples, {deliveries} deliveries: nothing to split")
    per_delivery = cpu / deliveries * 1e6
    print(f"samples={total}")
    print(f"us_per_delivery={per_delivery:.0f}")
    for name, count in counts.items():
        print(f"{name}={count / total * 100:.1f}={count / total * per_delivery:.0f}")


main()
