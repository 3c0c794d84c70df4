# Bench only (bench/ is never shipped): sums the bytes of the files whose checksum a task
# computed during a run, read from the task results (what the modules report, not what the
# tasks are assumed to do):
#   - any result (or loop item) with stat.checksum: stat.size (ansible.builtin.stat with
#     get_checksum, on the host or delegated to the controller)
#   - copy and template results carrying `checksum`: 2 x size (the action hashes the
#     source on the controller and the destination on the host; a first copy also has the
#     module verify the transferred file, counted as the second read)
#   - get_url results with checksum_dest / checksum_src: size per checksum reported
#   - harbor_prepare_check's `checksums`: counted as files (their sizes are not reported;
#     they are harbor.yml's certificate/key/CA files, a few KB each)
# Enable with ANSIBLE_CALLBACK_PLUGINS=bench/callback_plugins and
# ANSIBLE_CALLBACKS_ENABLED=...,bench_hashed; the totals are printed at the end and, when
# BENCH_HASHED_OUT names a file, written there as JSON (bytes, files, per task).
from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: bench_hashed
type: aggregate
short_description: bytes of the files whose checksum a task computed (bench only)
description: Sums, from the task results, the sizes of the files a task hashed.
requirements: [enable in ANSIBLE_CALLBACKS_ENABLED]
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_hashed"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.total = 0
        self.files = 0
        self.small_files = 0
        self.per_task = {}

    def _count(self, action, r):
        size, files, small = 0, 0, 0
        if not isinstance(r, dict):
            return 0, 0, 0
        st = r.get("stat")
        if isinstance(st, dict) and st.get("checksum"):
            size += int(st.get("size") or 0)
            files += 1
        short = action.rsplit(".", 1)[-1]
        if short in ("copy", "template") and r.get("checksum") and "size" in r:
            size += 2 * int(r["size"] or 0)
            files += 1
        if short == "get_url":
            n = sum(1 for k in ("checksum_dest", "checksum_src") if r.get(k))
            if n:
                size += n * int(r.get("size") or 0)
                files += 1
        if short == "harbor_prepare_check" and isinstance(r.get("checksums"), dict):
            small += len(r["checksums"])
        for item in r.get("results") or []:
            s, f, m = self._count(action, item)
            size, files, small = size + s, files + f, small + m
        return size, files, small

    def v2_runner_on_ok(self, result):
        res = getattr(result, "result", None)
        if res is None:
            res = result._result
        task = result.task if hasattr(result, "task") else result._task
        size, files, small = self._count(task.action or "", res)
        if size or files or small:
            self.total += size
            self.files += files
            self.small_files += small
            key = task.get_name()
            prev = self.per_task.get(key, [0, 0])
            self.per_task[key] = [prev[0] + size, prev[1] + files + small]


    def v2_playbook_on_stats(self, stats):
        self._display.display(
            f"bench_hashed: {self.total} bytes hashed in {self.files} files"
            f" (+{self.small_files} small files hashed by harbor_prepare_check, sizes not reported)")
        for name, (size, files) in sorted(self.per_task.items(), key=lambda kv: -kv[1][0]):
            self._display.display(f"bench_hashed:   {size:>12} bytes  {files:>3} files  {name}")
        out = os.environ.get("BENCH_HASHED_OUT")
        if out:
            with open(out, "w") as fh:
                json.dump({"bytes": self.total, "files": self.files, "small_files": self.small_files,
                           "per_task": self.per_task}, fh, indent=1)
