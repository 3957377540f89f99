#!/usr/bin/env python3
"""How long this machine's disk takes to make a small write durable, the
way the audit spool does it: 600 bytes written over a file that already has
its blocks, then fdatasync. Durable mode waits for one such flush per
group of commands, so it bounds durable TPS (bench/RESULTS.md, twelfth run).

    python3 bench/flush.py [DIR]     # DIR on the disk data_dir is on; default .

Prints wall and CPU microseconds per flush for one thread, the same with
O_DIRECT | O_DSYNC 4 KiB writes instead of fdatasync, and the latency and
total rate with 2, 4 and 8 threads flushing files of their own.
"""
import mmap
import os
import sys
import threading
import time

DIR = sys.argv[1] if len(sys.argv) > 1 else "."
BLOCKS = 2000
FLUSHES = 1000


def prepared(name):
    path = os.path.join(DIR, name)
    fd = os.open(path, os.O_CREAT | os.O_RDWR | os.O_TRUNC, 0o600)
    os.write(fd, b"\0" * (4096 * BLOCKS))
    os.fsync(fd)
    return path, fd


def fdatasync_loop(fd, n):
    record = b"x" * 600
    for i in range(n):
        os.pwrite(fd, record, i * 600)
        os.fdatasync(fd)


def one_thread():
    path, fd = prepared("flush-probe-0")
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        fdatasync_loop(fd, FLUSHES)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"pwrite + fdatasync:       {wall / FLUSHES * 1e6:7.1f} us wall, {cpu / FLUSHES * 1e6:6.1f} us CPU per flush")
    finally:
        os.close(fd)
    # O_DIRECT needs an aligned buffer: an anonymous mapping is one.
    block = mmap.mmap(-1, 4096)
    block.write(b"x" * 4096)
    fd = os.open(path, os.O_RDWR | os.O_DIRECT | os.O_DSYNC)
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        for i in range(FLUSHES):
            os.pwrite(fd, block, (i % BLOCKS) * 4096)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"O_DIRECT|O_DSYNC 4 KiB:   {wall / FLUSHES * 1e6:7.1f} us wall, {cpu / FLUSHES * 1e6:6.1f} us CPU per write")
    finally:
        os.close(fd)
        os.unlink(path)


def threads(count):
    files = [prepared(f"flush-probe-{i}") for i in range(count)]
    took = [0.0] * count
    n = FLUSHES // 2

    def run(i):
        start = time.perf_counter()
        fdatasync_loop(files[i][1], n)
        took[i] = time.perf_counter() - start

    workers = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    wall = time.perf_counter() - start
    for path, fd in files:
        os.close(fd)
        os.unlink(path)
    print(f"{count} threads, own files:    {sum(took) / count / n * 1e6:7.1f} us per flush, {count * n / wall:7.0f} flushes/s in all")


one_thread()
for count in (2, 4, 8):
    threads(count)
