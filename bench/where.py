#!/usr/bin/env python3
"""Where a pgbench run's CPU goes on the whole machine, per transaction.

Runs the given pgbench command and prints, per transaction:
- CPU time (user and system) of every process by name, including what
  exited during the run (pgbench itself, PostgreSQL backends of sessions
  that ended), read from the parents' reaped-children times;
- the time the machine's cores sat idle;
- context switches (voluntary: the thread slept; involuntary: it was
  preempted) by thread name, counted between 20 % and 80 % of the run so
  that connecting and disconnecting stay out.

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


def proc_times():
    """pid -> (name, user, system, children's user, children's system), ticks."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # The name is in parentheses and may hold spaces or parentheses.
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        # fields[0] is field 3 of proc(5): utime is field 14, stime 15,
        # cutime 16, cstime 17.
        out[pid] = (name, *(int(fields[i]) for i in (11, 12, 13, 14)))
    return out


def machine_ticks():
    """(idle, stolen, total) ticks of all cores."""
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    # idle + iowait; steal is time the hypervisor gave to someone else.
    return cpu[3] + cpu[4], cpu[7], sum(cpu[:8])


def thread_switches():
    """tid -> (thread name, voluntary, involuntary)."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/status") as f:
                    status = dict(
                        line.split(":\t", 1) for line in f.read().splitlines() if ":\t" in line
                    )
                out[tid] = (
                    status["Name"].strip(),
                    int(status["voluntary_ctxt_switches"]),
                    int(status["nonvoluntary_ctxt_switches"]),
                )
            except (OSError, KeyError, ValueError):
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

    switches = {}

    def sample_switches():
        time.sleep(secs * 0.2)
        switches["start"] = (time.monotonic(), thread_switches())
        time.sleep(secs * 0.6)
        switches["end"] = (time.monotonic(), thread_switches())

    before, idle0 = proc_times(), machine_ticks()
    sampler = threading.Thread(target=sample_switches, daemon=True)
    sampler.start()
    run = subprocess.run(cmd, capture_output=True, text=True)
    after, idle1 = proc_times(), machine_ticks()
    sampler.join()
    if run.returncode != 0:
        sys.stderr.write(run.stdout + run.stderr)
        sys.exit(f"where.py: pgbench exited with {run.returncode}")
    tps = re.search(r"^tps = ([0-9.]+)", run.stdout, re.M)
    if not tps:
        sys.stderr.write(run.stdout)
        sys.exit("where.py: no tps in pgbench's output")
    tps = float(tps.group(1))
    txns = tps * secs
    per_txn = lambda ticks: ticks / HZ * 1e6 / txns  # noqa: E731

    user, system = defaultdict(int), defaultdict(int)
    mine = str(os.getpid())
    for pid, (name, u, s, cu, cs) in after.items():
        if pid == mine:
            continue
        if pid in before and before[pid][0] == name:
            _, u0, s0, cu0, cs0 = before[pid]
        else:
            u0 = s0 = cu0 = cs0 = 0
        user[name] += u - u0
        system[name] += s - s0
        # Children reaped during the run count under their parent's name:
        # PostgreSQL's backends of sessions that ended, under postgres.
        user[name] += cu - cu0
        system[name] += cs - cs0
    # The command itself was reaped by this process.
    me = os.times()
    user["pgbench"] += round(me.children_user * HZ)
    system["pgbench"] += round(me.children_system * HZ)

    print(f"tps {tps:.0f}; CPU µs per transaction (user + system)")
    rows = sorted(user, key=lambda n: -(user[n] + system[n]))
    for name in rows:
        total = per_txn(user[name] + system[name])
        if total >= 0.5:
            print(f"  {name:<20} {total:6.1f}  (user {per_txn(user[name]):5.1f}, system {per_txn(system[name]):5.1f})")
    idle, stolen, total = (per_txn(b - a) for a, b in zip(idle0, idle1))
    print(f"  {'idle':<20} {idle:6.1f}")
    print(f"  {'stolen':<20} {stolen:6.1f}  (by the hypervisor)")
    print(f"  {'all cores':<20} {total:6.1f}")

    (t0, s0), (t1, s1) = switches["start"], switches["end"]
    window_txns = tps * (t1 - t0)
    vol, invol = defaultdict(int), defaultdict(int)
    for tid, (name, v, i) in s1.items():
        if tid in s0 and s0[tid][0] == name:
            vol[name] += v - s0[tid][1]
            invol[name] += i - s0[tid][2]
    print("context switches per transaction (voluntary / involuntary)")
    for name in sorted(vol, key=lambda n: -(vol[n] + invol[n])):
        if vol[name] + invol[name] >= 0.02 * window_txns:
            print(f"  {name:<20} {vol[name] / window_txns:5.2f} / {invol[name] / window_txns:5.2f}")


if __name__ == "__main__":
    main()
