#!/usr/bin/env python3
"""Where a pgbench run's CPU goes on the whole machine, per transaction.

Runs the given pgbench command, prints its report, and then, per
transaction:
- CPU time (user and system) of every process by name;
- the time the machine's cores sat idle, and the time the hypervisor
  gave to someone else;
- context switches (voluntary: the thread slept; involuntary: it was
  preempted) by thread name.

Everything is counted between 20 % and 80 % of the run, from the threads
alive through that window, so that connecting and disconnecting (and
whatever an earlier run left to exit) stay out.

    python3 bench/where.py -- pgbench -n -S -T 8 -c 8 -j 2 -h 127.0.0.1 -p 15432 ...

A proxy that costs the machine more per transaction leaves less for the
database and the clients; comparing these tables for two proxies shows
whether the difference is the proxy's own time, or time it causes others
to spend (more sleeps, more preemptions). Linux only (/proc).
"""

import os
import re
import subprocess
import sys
import threading
import time
from collections import defaultdict

HZ = os.sysconf("SC_CLK_TCK")


def machine_ticks():
    """(idle, stolen, total) ticks of all cores."""
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    # idle + iowait; steal is time the hypervisor gave to someone else.
    return cpu[3] + cpu[4], cpu[7], sum(cpu[:8])


def threads():
    """tid -> (process name, thread name, user ticks, system ticks,
    voluntary switches, involuntary switches)."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/comm") as f:
                process = f.read().strip()
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/stat") as f:
                    stat = f.read()
                with open(f"/proc/{pid}/task/{tid}/status") as f:
                    status = dict(
                        line.split(":\t", 1) for line in f.read().splitlines() if ":\t" in line
                    )
                # The name is in parentheses and may hold spaces; fields
                # after it start at field 3 of proc(5): utime is 14, stime 15.
                fields = stat[stat.rindex(")") + 2 :].split()
                out[tid] = (
                    process,
                    stat[stat.index("(") + 1 : stat.rindex(")")],
                    int(fields[11]),
                    int(fields[12]),
                    int(status["voluntary_ctxt_switches"]),
                    int(status["nonvoluntary_ctxt_switches"]),
                )
            except (OSError, KeyError, ValueError, IndexError):
                continue
    return out


def duration_of(cmd):
    for i, arg in enumerate(cmd):
        if arg == "-T" and i + 1 < len(cmd):
            return float(cmd[i + 1])
        if arg.startswith("-T") and len(arg) > 2:
            return float(arg[2:])
    sys.exit("where.py: the pgbench command needs -T SECONDS")


def main():
    if "--" not in sys.argv:
        sys.exit(__doc__)
    cmd = sys.argv[sys.argv.index("--") + 1 :]
    secs = duration_of(cmd)

    window = {}

    def sample():
        time.sleep(secs * 0.2)
        window["start"] = (time.monotonic(), machine_ticks(), threads())
        time.sleep(secs * 0.6)
        window["end"] = (time.monotonic(), machine_ticks(), threads())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    run = subprocess.run(cmd, capture_output=True, text=True)
    sampler.join()
    if run.returncode != 0:
        sys.stderr.write(run.stdout + run.stderr)
        sys.exit(f"where.py: pgbench exited with {run.returncode}")
    tps = re.search(r"^tps = ([0-9.]+)", run.stdout, re.M)
    if not tps:
        sys.stderr.write(run.stdout)
        sys.exit("where.py: no tps in pgbench's output")
    tps = float(tps.group(1))
    # pgbench's own report first, so that scripts reading it still can.
    sys.stdout.write(run.stdout)

    (t0, m0, th0), (t1, m1, th1) = window["start"], window["end"]
    txns = tps * (t1 - t0)

    def per_txn(ticks):
        return ticks / HZ * 1e6 / txns

    # Threads alive through the window; a process's threads summed by the
    # process's name, its switches by the thread's name.
    user, system = defaultdict(int), defaultdict(int)
    vol, invol = defaultdict(int), defaultdict(int)
    for tid, (process, thread, u, s, v, i) in th1.items():
        if tid not in th0 or th0[tid][:2] != (process, thread):
            continue
        _, _, u0, s0, v0, i0 = th0[tid]
        user[process] += u - u0
        system[process] += s - s0
        vol[thread] += v - v0
        invol[thread] += i - i0

    print(f"tps {tps:.0f}; CPU µs per transaction (user + system), from 20 % to 80 % of the run")
    for name in sorted(user, key=lambda n: -(user[n] + system[n])):
        total = per_txn(user[name] + system[name])
        if total >= 0.5:
            print(
                f"  {name:<20} {total:6.1f}  (user {per_txn(user[name]):5.1f}, system {per_txn(system[name]):5.1f})"
            )
    idle, stolen, total = (per_txn(b - a) for a, b in zip(m0, m1))
    print(f"  {'idle':<20} {idle:6.1f}")
    print(f"  {'stolen':<20} {stolen:6.1f}  (by the hypervisor)")
    print(f"  {'all cores':<20} {total:6.1f}")
    print("context switches per transaction (voluntary / involuntary)")
    for name in sorted(vol, key=lambda n: -(vol[n] + invol[n])):
        if vol[name] + invol[name] >= 0.02 * txns:
            print(f"  {name:<20} {vol[name] / txns:5.2f} / {invol[name] / txns:5.2f}")


if __name__ == "__main__":
    main()
