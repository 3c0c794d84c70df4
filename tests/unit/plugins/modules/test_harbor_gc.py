"""harbor_gc against the fake Harbor of tests/unit/plugins/fake_harbor.py."""

import json

import pytest

from ansible_collections.harbor.deploy.plugins.modules import harbor_gc

SCHEDULE = "/system/gc/schedule"


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch):
    monkeypatch.setattr(harbor_gc, "POLL_INTERVAL", 0.01)


def run(run_module, api, check_mode=False, diff=False, **args):
    return run_module(harbor_gc, dict(api, _ansible_diff=diff, **args), check_mode=check_mode)


def stored(harbor):
    schedule = harbor.gc_schedule
    return schedule and (schedule["schedule"]["type"], schedule["schedule"]["cron"],
                         json.loads(schedule["job_parameters"]))


def test_create_schedule(run_module, harbor, api):
    failed, result = run(run_module, api, diff=True, schedule="Weekly", delete_untagged=True, workers=3)
    assert not failed and result["changed"]
    assert harbor.writes() == [("POST", SCHEDULE)]
    assert harbor.sent("POST", SCHEDULE)[0]["body"] == {
        "schedule": {"type": "Weekly", "cron": "0 0 0 * * 0"}, "parameters": {"delete_untagged": True, "workers": 3}}
    assert stored(harbor) == ("Weekly", "0 0 0 * * 0", {"delete_untagged": True, "workers": 3})
    assert result["schedule"]["schedule"]["type"] == "Weekly"
    assert result["diff"] == {"before": {"type": "None"}, "after": {
        "type": "Weekly", "cron": "0 0 0 * * 0", "delete_untagged": True, "workers": 3}}


def test_rerun_changes_nothing(run_module, harbor, api):
    args = dict(schedule="Custom", cron="0 30 2 * * *", workers=2)
    assert run(run_module, api, **args)[1]["changed"]
    writes = len(harbor.writes())
    failed, result = run(run_module, api, **args)
    assert not failed and not result["changed"] and len(harbor.writes()) == writes


def test_update_keeps_the_parameters_not_given(run_module, harbor, api):
    run(run_module, api, schedule="Daily", delete_untagged=True, workers=4)
    failed, result = run(run_module, api, diff=True, schedule="Hourly")
    assert not failed and result["changed"]
    assert harbor.sent("PUT", SCHEDULE)[0]["body"] == {
        "schedule": {"type": "Hourly", "cron": "0 0 * * * *"}, "parameters": {"delete_untagged": True, "workers": 4}}
    assert (result["diff"]["before"]["type"], result["diff"]["after"]["type"]) == ("Daily", "Hourly")
    failed, result = run(run_module, api, schedule="Hourly", workers=4)
    assert not failed and not result["changed"]


def test_remove_schedule(run_module, harbor, api):
    run(run_module, api, schedule="Daily")
    failed, result = run(run_module, api, check_mode=True, diff=True, schedule="None")
    assert not failed and result["changed"] and harbor.gc_schedule is not None
    assert result["diff"]["after"] == {"type": "None"}
    failed, result = run(run_module, api, schedule="None")
    assert not failed and result["changed"] and harbor.gc_schedule is None and result["schedule"] is None
    assert harbor.sent("PUT", SCHEDULE)[-1]["body"] == {"schedule": {"type": "None"}}
    failed, result = run(run_module, api, schedule="None")
    assert not failed and not result["changed"]


def test_check_mode_writes_nothing(run_module, harbor, api):
    failed, result = run(run_module, api, check_mode=True, diff=True, schedule="Daily", run=True)
    assert not failed and result["changed"] and harbor.writes() == [] and harbor.gc_schedule is None
    assert "gc" not in result and result["diff"]["after"]["cron"] == "0 0 0 * * *"


@pytest.mark.parametrize("args, message", [
    (dict(schedule="Custom"), "schedule=Custom needs cron"),
    (dict(schedule="Daily", cron="0 0 1 * * *"), "cron is for schedule=Custom only"),
    (dict(schedule="Custom", cron="0 2 * * *"), "must have six fields"),
    (dict(schedule="Daily", workers=9), "workers must be from 1 to 5"),
    (dict(workers=2), "nothing to do: give schedule"),
])
def test_refused_before_any_request(run_module, harbor, api, args, message):
    failed, result = run(run_module, api, **args)
    assert failed and message in result["msg"] and harbor.requests == []


def test_run_and_wait_success(run_module, harbor, api):
    harbor.gc_statuses = ["Pending", "Running", "Running", "Success"]
    failed, result = run(run_module, api, run=True, delete_untagged=True)
    assert not failed and result["changed"]
    assert harbor.sent("POST", SCHEDULE)[0]["body"] == {
        "schedule": {"type": "Manual"}, "parameters": {"delete_untagged": True, "workers": 1, "dry_run": False}}
    gc_id = result["gc"]["id"]
    assert result["gc"]["job_status"] == "Success"
    assert len(harbor.sent("GET", "/system/gc/%d" % gc_id)) == 4
    assert "schedule" not in result and "diff" not in result


def test_run_without_wait(run_module, harbor, api):
    failed, result = run(run_module, api, run=True, wait=False)
    assert not failed and result["changed"] and result["gc"]["job_status"] == "Running"


def test_run_ends_in_error(run_module, harbor, api):
    harbor.gc_statuses = ["Running", "Error"]
    failed, result = run(run_module, api, run=True)
    assert failed and result["changed"] and result["gc"]["job_status"] == "Error"
    assert "ended with status Error" in result["msg"]


def test_run_wait_timeout(run_module, harbor, api):
    harbor.gc_statuses = ["Running"]
    failed, result = run(run_module, api, run=True, wait_timeout=0)
    assert failed and result["changed"]
    assert "did not end within 0 seconds (its status is Running); it goes on in Harbor" in result["msg"]


def test_run_refused_while_one_runs(run_module, harbor, api):
    harbor.gc_job(status="Running")
    failed, result = run(run_module, api, run=True)
    assert failed and result["status"] == 409
    assert "(manual garbage collection): HTTP 409 CONFLICT: a previous GC job is still running" in result["msg"]


def test_5xx_is_retried(run_module, harbor, api):
    harbor.fail(500, times=1, method="GET", path=SCHEDULE)
    failed, result = run(run_module, api, schedule="Daily")
    assert not failed and result["changed"] and len(harbor.sent("GET", SCHEDULE)) == 3
