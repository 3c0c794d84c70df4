#!/usr/bin/env python3
"""Where a playbook run's time went, from its output with ansible.posix.profile_tasks on.

profile_tasks prints, under each TASK [...] header, a line ending "(0:00:01.234)  0:01:05.355 ****"
whose parenthesised figure is the previous task's duration (the TASKS RECAP line closes the
last one). Each task is classed by what its host lines say: skipped (only "skipping:"),
ran (any ok/changed/failed), or other (includes, meta). Prints the totals per class and per
role, so a rerun's cost can be read as "N tasks x their round trip" vs a few slow ones.
usage: taskprofile.py LOG
"""
import re
import sys
from collections import defaultdict

HEAD = re.compile(r"^(TASK|RUNNING HANDLER) \[(.*)\] \**$")
STAMP = re.compile(r"\((\d+):(\d+):(\d+\.\d+)\)\s+\d+:\d+:\d+\.\d+ \*+\s*$")


def main(path):
    tasks = []  # [name, seconds, statuses]
    prev = new = None  # the task whose host lines are being read, the header just seen
    with open(path, errors="replace") as fh:
        for line in fh:
            line = line.rstrip("\n")
            m = STAMP.search(line)
            if m:  # closes the previous task; the header above it starts the next one
                secs = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
                if prev is not None:
                    prev[1] = secs
                    tasks.append(prev)
                prev, new = new, None
                continue
            m = HEAD.match(line)
            if m:
                new = [m.group(2), 0.0, set()]
                continue
            if prev is not None:
                for status in ("ok", "changed", "skipping", "failed", "fatal", "included"):
                    if line.startswith(status + ":"):
                        prev[2].add(status)
    by_class = defaultdict(lambda: [0, 0.0])
    by_role = defaultdict(lambda: [0, 0.0, 0, 0.0])
    for name, secs, statuses in tasks:
        if statuses and statuses <= {"skipping"}:
            cls = "skipped"
        elif statuses & {"ok", "changed", "failed", "fatal"}:
            cls = "ran"
        else:
            cls = "other (include, meta, no host line)"
        by_class[cls][0] += 1
        by_class[cls][1] += secs
        role = name.split(" : ", 1)[0] if " : " in name else "(play tasks)"
        r = by_role[role]
        if cls == "skipped":
            r[2] += 1
            r[3] += secs
        else:
            r[0] += 1
            r[1] += secs
    total = sum(t[1] for t in tasks)
    print(f"    {len(tasks)} tasks, {total:.1f}s in tasks:", ", ".join(
        f"{cls} {n} ({s:.1f}s, {s / n:.2f}s each)" for cls, (n, s) in sorted(by_class.items()) if n))
    for role, (n, s, ns, ss) in sorted(by_role.items(), key=lambda kv: -(kv[1][1] + kv[1][3])):
        print(f"    {role:<28} {s + ss:6.1f}s  {n:3d} run/other ({s:5.1f}s)  {ns:3d} skipped ({ss:5.1f}s)")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
