"""A fleet of dial-in terminals for make bench: COUNT connections to warncastd's
/v1/terminals/{id}/stream, each acknowledging every warning pushed to it on
/v1/terminals/{id}/ack through a pool of keep-alive connections.

usage: dialin_fleet.py HOST PORT PREFIX COUNT SECRET STATUS_FILE

Writes "connected=N" to STATUS_FILE once every terminal is connected, then, once every
terminal has had one warning acknowledged (or after 120 s), the wall-clock times of the
first event, the last event and the last acknowledgement, and the counts.
"""
import asyncio
import sys
import time

import uvloop

HOST, PORT, PREFIX, COUNT, SECRET, STATUS = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6]
ACKERS = 48

events = 0
acked = 0
first_event = last_event = last_ack = None
# The fleet's own CPU time when the first event arrived.
cpu_at_first = None
connected = 0
done = asyncio.Event()


async def terminal(index, acks):
    global events, first_event, last_event, connected, cpu_at_first
    name = f"{PREFIX}{index:05d}"
    for attempt in range(50):
        try:
            reader, writer = await asyncio.open_connection(HOST, PORT)
            break
        except OSError:
            await asyncio.sleep(0.1 * (attempt + 1))
    else:
        return
    writer.write(
        f"GET /v1/terminals/{name}/stream HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {SECRET}\r\n"
        f"Accept: text/event-stream\r\n\r\n".encode())
    status = await reader.readline()
    if b" 200 " not in status:
        print(f"{name}: {status!r}", file=sys.stderr)
        return
    connected += 1
    while True:
        line = await reader.readline()
        if not line:
            return
        # One event per chunk: its lines arrive whole between the chunk-size lines.
        if line.startswith(b"id: "):
            now = time.time()
            events += 1
            if first_event is None:
                first_event, cpu_at_first = now, time.process_time()
            last_event = now
            await acks.put((name, line[4:].strip().decode()))


async def acker(acks):
    global acked, last_ack
    reader, writer = await asyncio.open_connection(HOST, PORT)
    while True:
        name, key = await acks.get()
        body = ('{"idempotencyKey":"%s"}' % key).encode()
        request = (
            f"POST /v1/terminals/{name}/ack HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {SECRET}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
        writer.write(request)
        status = await reader.readline()
        if not status:
            # warncastd closed the idle keep-alive connection (server.idle_timeout_seconds)
            # while the fleet was still dialling in: again on a new one.
            writer.close()
            reader, writer = await asyncio.open_connection(HOST, PORT)
            writer.write(request)
            status = await reader.readline()
        length = 0
        while True:
            header = await reader.readline()
            if header in (b"\r\n", b""):
                break
            if header.lower().startswith(b"content-length:"):
                length = int(header.split(b":")[1])
        await reader.readexactly(length)
        if b" 200 " in status:
            acked += 1
            last_ack = time.time()
            if acked >= COUNT:
                done.set()


async def main():
    acks = asyncio.Queue()
    tasks = [asyncio.create_task(acker(acks)) for _ in range(ACKERS)]
    for start in range(0, COUNT, 500):
        tasks += [asyncio.create_task(terminal(i, acks)) for i in range(start, min(COUNT, start + 500))]
        await asyncio.sleep(0.05)
    for _ in range(1200):
        if connected >= COUNT:
            break
        await asyncio.sleep(0.1)
    with open(STATUS, "w") as out:
        out.write(f"connected={connected}\n")
    try:
        await asyncio.wait_for(done.wait(), timeout=600)
    except asyncio.TimeoutError:
        pass
    with open(STATUS, "a") as out:
        out.write(f"events={events}\nacked={acked}\n")
        out.write(f"first_event={first_event or 0:.3f}\nlast_event={last_event or 0:.3f}\nlast_ack={last_ack or 0:.3f}\n")
        if cpu_at_first is not None:
            out.write(f"cpu={time.process_time() - cpu_at_first:.2f}\n")
        out.write("finished=1\n")
    for task in tasks:
        task.cancel()


# uvloop: the fleet shares the 2 cores with warncastd, and asyncio's own loop spent a
# quarter more CPU reading the events and acknowledging them than uvloop does.
uvloop.run(main())
