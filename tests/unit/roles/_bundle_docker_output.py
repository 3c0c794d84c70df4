"""Read ansible-playbook's default output, for the bundle and docker role tests: which tasks of a role
ran (any result but `skipping`), which were skipped, and the recap."""

import hashlib
import os
import re

TASK = re.compile(r"^TASK \[(?:(?P<role>[\w.]+) : )?(?P<name>.*?)\] \**$")
RESULT = re.compile(r"^(?P<status>ok|changed|skipping|fatal|failed|included): \[")
RECAP = re.compile(r"^localhost\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)")


def task_results(output, role):
    """{task name: set of statuses} for the tasks of `role` (harbor.deploy.<role>), in order."""
    results, current = {}, None
    for line in output.splitlines():
        match = TASK.match(line)
        if match:
            current = match.group("name") if match.group("role") == "harbor.deploy." + role else None
            if current is not None:
                results.setdefault(current, set())
            continue
        match = RESULT.match(line)
        if match and current is not None:
            results[current].add(match.group("status"))
    return results


def ran(output, role):
    """The names of the role's tasks that ran (anything but skipped), in order."""
    return [name for name, statuses in task_results(output, role).items() if statuses - {"skipping"}]


def skipped(output, role, name):
    return task_results(output, role).get(name) == {"skipping"}


def recap(output):
    """(ok, changed, failed) of localhost's recap line."""
    match = next(m for m in map(RECAP.match, output.splitlines()) if m)
    return int(match.group(1)), int(match.group(2)), int(match.group(4))


def rewrite_keeping_mtime(path):
    """Overwrite the start of `path` in place and put its mtime back (what a size+mtime check misses);
    returns the sha256 it had before."""
    good = hashlib.sha256(path.read_bytes()).hexdigest()
    before = os.stat(path)
    with open(path, "r+b") as handle:
        handle.write(bytes(64))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    return good
