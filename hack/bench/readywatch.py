#!/usr/bin/env python3
"""Waits, from outside, for containers to be running: each one writes a line containing READY to its stdout, which
ends up in a file under DIR (a pod's CRI log, or a runc container's redirected stdout). Uses inotify (recursive,
directories added as they appear), never a sleep loop.

    readywatch.py DIR COUNT [TIMEOUT_S [REGEX]]

Prints "<path> <CLOCK_REALTIME ns>" for each file as soon as READY is in it, and exits 0 once COUNT files did
(1 on timeout). Only files whose path matches REGEX (re.search) count, so that each run waits for exactly its own
containers. Start it before the thing being timed; it reports "watching" on stderr when its watches are set.
"""
import ctypes, os, re, select, struct, sys, time

IN_MODIFY, IN_CLOSE_WRITE, IN_CREATE, IN_MOVED_TO, IN_ONLYDIR = 0x2, 0x8, 0x100, 0x80, 0x01000000
IN_ISDIR = 0x40000000
libc = ctypes.CDLL("libc.so.6", use_errno=True)

root, want = sys.argv[1], int(sys.argv[2])
timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 120
pattern = re.compile(sys.argv[4]) if len(sys.argv) > 4 else None
fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
watches, done, ignored = {}, set(), set()
baseline = True  # files already READY when the watch starts belong to earlier runs

def watch(d):
    wd = libc.inotify_add_watch(fd, d.encode(), IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO)
    if wd >= 0:
        watches[wd] = d
    # Anything created before the watch was set.
    for e in os.scandir(d):
        if e.is_dir(follow_symlinks=False):
            watch(e.path)
        else:
            check(e.path)

def check(path):
    if path in done or path in ignored or (pattern is not None and not pattern.search(path)):
        return
    try:
        with open(path, "rb") as f:
            if b"READY" in f.read():
                if baseline:
                    ignored.add(path)
                    return
                done.add(path)
                print(path, time.time_ns(), flush=True)
    except OSError:
        pass

watch(root)
baseline = False
print("watching", file=sys.stderr, flush=True)
deadline = time.monotonic() + timeout
poller = select.poll()
poller.register(fd, select.POLLIN)
while len(done) < want:
    left = deadline - time.monotonic()
    if left <= 0 or not poller.poll(left * 1000):
        print(f"timeout: {len(done)} of {want} ready", file=sys.stderr)
        sys.exit(1)
    buf = os.read(fd, 65536)
    i = 0
    while i < len(buf):
        wd, mask, _, n = struct.unpack_from("iIII", buf, i)
        name = buf[i + 16:i + 16 + n].rstrip(b"\0").decode()
        i += 16 + n
        path = os.path.join(watches.get(wd, root), name)
        if mask & IN_ISDIR:
            watch(path)
        else:
            check(path)
