#!/usr/bin/env python3
"""A userspace delay line: real Ethernet frames between two TAP devices, delayed, jittered, dropped.

Used by tools/netlab when the kernel has no sch_netem. It creates two TAP devices in the network
namespace it starts in (the lab's hub): the harness moves the first into a host's namespace as its
interface and attaches the second to the hub's bridge. Every frame read from one TAP is written to
the other after `delay ± jitter` milliseconds, or dropped with probability `loss` percent. Each
direction keeps its order (a frame never overtakes the one before it), as a wire would.

Protocol on stdin: one JSON object per line, {"delayMs":…, "jitterMs":…, "lossPercent":…}, applied to
both directions at once; end of stdin (the harness exited) closes the TAPs, which removes them.
Prints "ready" on stdout once both TAPs exist, and "ok" after each applied line.
"""
import collections
import fcntl
import json
import os
import random
import select
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
MAX_FRAME = 65536 + 64
# Frames waiting per direction; past it new frames are dropped, as a full device queue would.
MAX_QUEUED = 10000


def open_tap(name):
    fd = os.open('/dev/net/tun', os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack('16sH', name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


class Shape:
    def __init__(self):
        self.delay = 0.0
        self.jitter = 0.0
        self.loss = 0.0

    def update(self, spec):
        self.delay = float(spec.get('delayMs', 0)) / 1000.0
        self.jitter = float(spec.get('jitterMs', 0)) / 1000.0
        self.loss = float(spec.get('lossPercent', 0)) / 100.0


class Direction:
    def __init__(self, source, sink, shape, rng):
        self.source, self.sink, self.shape, self.rng = source, sink, shape, rng
        self.queue = collections.deque()
        self.last_release = 0.0

    def receive(self, now):
        # Drain what the kernel has queued so one busy direction cannot starve the other for long.
        for _ in range(256):
            try:
                frame = os.read(self.source, MAX_FRAME)
            except BlockingIOError:
                return
            shape = self.shape
            if shape.loss > 0 and self.rng.random() < shape.loss:
                continue
            if shape.delay == 0 and shape.jitter == 0 and not self.queue:
                self.send(frame)
                continue
            if len(self.queue) >= MAX_QUEUED:
                continue
            offset = shape.delay + (self.rng.uniform(-shape.jitter, shape.jitter) if shape.jitter > 0 else 0.0)
            release = max(now + max(offset, 0.0), self.last_release)
            self.last_release = release
            self.queue.append((release, frame))

    def send(self, frame):
        try:
            os.write(self.sink, frame)
        except OSError:
            pass  # the far TAP is down (its namespace is gone or not up yet): the frame is lost

    def release_due(self, now):
        while self.queue and self.queue[0][0] <= now:
            self.send(self.queue.popleft()[1])

    def next_release(self):
        return self.queue[0][0] if self.queue else None


def main():
    host_tap, bridge_tap = sys.argv[1], sys.argv[2]
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else None
    rng = random.Random(seed)
    host_fd, bridge_fd = open_tap(host_tap), open_tap(bridge_tap)
    shape = Shape()
    outbound = Direction(host_fd, bridge_fd, shape, rng)
    inbound = Direction(bridge_fd, host_fd, shape, rng)
    stdin = sys.stdin.fileno()
    os.set_blocking(stdin, False)
    pending = b''
    sys.stdout.write('ready\n')
    sys.stdout.flush()
    while True:
        now = time.monotonic()
        releases = [t for t in (outbound.next_release(), inbound.next_release()) if t is not None]
        timeout = max(0.0, min(releases) - now) if releases else None
        readable, _, _ = select.select([host_fd, bridge_fd, stdin], [], [], timeout)
        now = time.monotonic()
        if host_fd in readable:
            outbound.receive(now)
        if bridge_fd in readable:
            inbound.receive(now)
        if stdin in readable:
            chunk = os.read(stdin, 65536)
            if not chunk:
                return
            pending += chunk
            while b'\n' in pending:
                line, pending = pending.split(b'\n', 1)
                if line.strip():
                    shape.update(json.loads(line))
                    sys.stdout.write('ok\n')
                    sys.stdout.flush()
        outbound.release_due(now)
        inbound.release_due(now)


if __name__ == '__main__':
    main()
