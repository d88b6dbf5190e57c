"""Where a delivery's CPU goes: reads `perf script` output (call graphs unwound with DWARF,
Swift names demangled) recorded on warncastd during a release, and puts every
sample in one place of the delivery's path. A sample counts for the first place, in the
order below, that any frame of its stack belongs to.

    profile_split.py [--dialin] PERF_SCRIPT_TEXT CPU_SECONDS DELIVERIES

With --dialin, the places of a push to a dial-in terminal and of its acknowledgement. It
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
# A push to a dial-in terminal: leased, signed and recorded like any delivery, then written
# down the terminal's event stream; its acknowledgement is an HTTP request of its own.
DIALIN_PLACES = PLACES[:6] + [
    ("the acknowledgement's handler (secret digest, the hub's waiter, the answer)", lambda frames, dsos: any(
        "TerminalController.acknowledge" in f or "TerminalController.plainAck" in f or "TerminalController.ackAnswer" in f
        for f in frames)),
    ("the push's event (SSE text) and handing it to the connection", lambda frames, dsos: any(
        "TerminalController" in f for f in frames)),
    ("HTTP: reading and parsing requests (the acknowledgements)", lambda frames, dsos: any(
        "llhttp" in f or "HTTPDecoder" in f or "readFromSocket" in f or "__libc_read" in f or "NIOAsyncChannelInboundStream" in f
        or "NIOAsyncChannelRequestBody" in f for f in frames)),
    ("HTTP: writing pushes and answers (NIO, the kernel's writev)", lambda frames, dsos: any(
        "writev" in f or "HTTPResponseEncoder" in f or "NIOAsyncWriter" in f or "NIOAsyncChannelHandlerWriterDelegate" in f
        for f in frames)),
    ("the hub and its transport (who waits for which acknowledgement)", lambda frames, dsos: any(
        "DialInHub" in f or "DialInTransport" in f for f in frames)),
    ("the delivery's way through the dispatcher", lambda frames, dsos: any(
        "DeliveryAttempt" in f or "DispatchService" in f or "ChannelDispatcher" in f for f in frames)),
    ("NIO's event loops otherwise (epoll, scheduling)", lambda frames, dsos: any(
        "SelectableEventLoop" in f or "setupThreadAndEventLoop" in f for f in frames)),
]
REST = "the rest: tasks, scheduling, retain/release, malloc"

FRAME = re.compile(r"^\s*[0-9a-f]+ (.*) \((.*)\)$")


def main():
    arguments = sys.argv[1:]
    places = PLACES
    if arguments and arguments[0] == "--dialin":
        places, arguments = DIALIN_PLACES, arguments[1:]
    text = open(arguments[0], encoding="utf-8", errors="replace").read()
    cpu, deliveries = float(arguments[1]), int(arguments[2])
    counts = {name: 0 for name, _ in places}
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
        for name, belongs in places:
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
