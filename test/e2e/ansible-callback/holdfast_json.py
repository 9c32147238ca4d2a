# A stdout callback printing one JSON document for the whole run, in the shape of
# ansible.posix.json (plays -> tasks -> hosts, and per-host stats). Debian's ansible-core
# ships no JSON callback (that one lives in the ansible.posix collection), and the tests
# must read results, not parse the human output.
from __future__ import annotations

import json
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: holdfast_json
    type: stdout
    short_description: one JSON document for the run (holdfast's tests)
    description: plays, tasks with each host's result, and the recap's stats
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "holdfast_json"

    def __init__(self, display=None):
        super().__init__(display)
        self.plays = []
        # (host, task uuid) -> when its worker started (monotonic, epoch): each result's
        # duration_ms and start_ms
        self.started = {}

    def v2_playbook_on_play_start(self, play):
        self.plays.append({"play": {"name": play.get_name()}, "tasks": []})

    def _task(self, task):
        tasks = self.plays[-1]["tasks"]
        if not tasks or tasks[-1]["task"]["id"] != str(task._uuid):
            # the task's own name, without the "holdfast : " role prefix
            tasks.append({"task": {"name": task.name or task.get_name(), "id": str(task._uuid)}, "hosts": {}})
        return tasks[-1]

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._task(task)

    def v2_runner_on_start(self, host, task):
        self.started[(host.get_name(), str(task._uuid))] = (time.monotonic(), time.time())

    def _record(self, result, **extra):
        entry = dict(result._result)
        entry.update(extra)
        began = self.started.pop((result._host.get_name(), str(result._task._uuid)), None)
        if began is not None:
            entry["duration_ms"] = round((time.monotonic() - began[0]) * 1000)
            entry["start_ms"] = round(began[1] * 1000)
        self._task(result._task)["hosts"][result._host.get_name()] = entry

    def v2_runner_on_ok(self, result):
        self._record(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, failed=True)

    def v2_runner_on_unreachable(self, result):
        self._record(result, unreachable=True)

    def v2_runner_on_skipped(self, result):
        self._record(result, skipped=True)

    def v2_playbook_on_stats(self, stats):
        summary = {}
        for host in sorted(stats.processed.keys()):
            s = stats.summarize(host)
            summary[host] = {
                "ok": s["ok"],
                "changed": s["changed"],
                "failures": s["failures"],
                "unreachable": s["unreachable"],
                "skipped": s["skipped"],
            }
        self._display.display(json.dumps({"plays": self.plays, "stats": summary}, default=str))
