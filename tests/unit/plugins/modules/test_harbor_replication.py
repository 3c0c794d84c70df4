"""harbor_replication against the fake Harbor of tests/unit/plugins/fake_harbor.py (and fake_replication.py)."""

import pytest

import fake_replication
from ansible_collections.harbor.deploy.plugins.modules import harbor_replication

POLICIES = "/replication/policies"
EXECUTIONS = "/replication/executions"
PUSH = dict(name="to-dr", direction="push", registry="dr")


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch):
    monkeypatch.setattr(harbor_replication, "POLL_INTERVAL", 0.01)


@pytest.fixture
def dr(harbor):
    """The id of a registry endpoint named dr (another Harbor)."""
    return harbor.add_registry("dr", kind="harbor", url="https://dr.example.com")


def run(run_module, api, check_mode=False, diff=False, **args):
    return run_module(harbor_replication, dict(api, _ansible_diff=diff, **args), check_mode=check_mode)


def stored(harbor, name="to-dr"):
    return fake_replication.policy_named(harbor, name)


def test_create_push(run_module, harbor, api, dr):
    failed, result = run(run_module, api, diff=True, description="to the DR site", dest_namespace="dr",
                         dest_namespace_replace_count=1, speed=2048, replicate_deletion=True,
                         filters=[dict(type="tag", value="v*"), dict(type="name", value="library/**"),
                                  dict(type="label", value=["b", "a"], decoration="excludes")],
                         trigger=dict(type="scheduled", cron="0 0 2 * * *"), **PUSH)
    assert not failed and result["changed"]
    assert [w[0] for w in harbor.writes()] == ["POST"]
    body = harbor.sent("POST", POLICIES)[0]["body"]
    assert body == {
        "name": "to-dr", "description": "to the DR site", "enabled": True, "dest_namespace": "dr",
        "dest_namespace_replace_count": 1,
        "filters": [{"type": "name", "value": "library/**"}, {"type": "tag", "value": "v*", "decoration": "matches"},
                    {"type": "label", "value": ["a", "b"], "decoration": "excludes"}],
        "trigger": {"type": "scheduled", "trigger_settings": {"cron": "0 0 2 * * *"}}, "override": True,
        "replicate_deletion": True, "deletion": True, "speed": 2048, "copy_by_chunk": False,
        "dest_registry": {"id": dr}}
    policy = stored(harbor)
    assert (policy["src_registry_id"], policy["dest_registry_id"], policy["deletion"]) == (0, dr, True)
    assert result["policy"]["id"] == policy["id"] and result["policy"]["dest_registry"]["name"] == "dr"
    assert result["policy"]["src_registry"]["name"] == "Local"
    assert result["diff"]["before"] == {}
    after = result["diff"]["after"]
    assert (after["direction"], after["registry"], after["enabled"], after["override"]) == ("push", "dr", True, True)
    assert after["trigger"] == {"type": "scheduled", "cron": "0 0 2 * * *"}
    assert "execution" not in result


def test_pull_puts_the_endpoint_in_src_registry(run_module, harbor, api, dr):
    failed, result = run(run_module, api, name="from-dr", direction="pull", registry="dr", enabled=False,
                         speed=-1)
    assert not failed and result["changed"]
    body = harbor.sent("POST", POLICIES)[0]["body"]
    assert body["src_registry"] == {"id": dr} and "dest_registry" not in body
    assert body["enabled"] is False and body["speed"] == -1
    policy = stored(harbor, "from-dr")
    assert (policy["src_registry_id"], policy["dest_registry_id"], policy["speed"]) == (dr, 0, 0)
    assert result["policy"]["src_registry"]["name"] == "dr" and result["policy"]["dest_registry"]["id"] == 0


def test_rerun_changes_nothing(run_module, harbor, api, dr):
    args = dict(PUSH, speed=-1, filters=[dict(type="label", value="approved"), dict(type="resource", value="image")],
                trigger=dict(type="event_based"), dest_namespace="x/y", override=False)
    assert run(run_module, api, **args)[1]["changed"]
    writes = len(harbor.writes())
    failed, result = run(run_module, api, diff=True, **args)
    assert not failed and not result["changed"] and len(harbor.writes()) == writes
    assert result["diff"]["before"] == result["diff"]["after"]


def test_check_mode_writes_nothing(run_module, harbor, api, dr):
    failed, result = run(run_module, api, check_mode=True, diff=True, run=True, **PUSH)
    assert not failed and result["changed"] and result["policy"] is None
    assert harbor.writes() == [] and fake_replication.policies(harbor) == {}
    assert result["diff"]["after"]["registry"] == "dr" and "execution" not in result
    fake_replication.add_policy(harbor, "to-dr", dr)
    failed, result = run(run_module, api, check_mode=True, diff=True, name="to-dr", description="new")
    assert not failed and result["changed"] and harbor.writes() == [] and stored(harbor)["description"] == ""
    assert (result["diff"]["before"]["description"], result["diff"]["after"]["description"]) == ("", "new")


def test_update_of_one_key_keeps_the_others(run_module, harbor, api, dr):
    policy_id = fake_replication.add_policy(
        harbor, "to-dr", dr, description="kept", dest_namespace="ns", dest_namespace_replace_count=2, speed=100,
        copy_by_chunk=True, single_active_replication=True, deletion=True,
        filters=[{"type": "name", "value": "a/**"}, {"type": "tag", "value": "v*", "decoration": "matches"}],
        trigger={"type": "scheduled", "trigger_settings": {"cron": "0 0 3 * * *"}})
    failed, result = run(run_module, api, diff=True, name="to-dr", enabled=False)
    assert not failed and result["changed"]
    assert harbor.writes() == [("PUT", "%s/%d" % (POLICIES, policy_id))]
    body = harbor.sent("PUT", "%s/%d" % (POLICIES, policy_id))[0]["body"]
    assert body["enabled"] is False and body["dest_registry"] == {"id": dr}
    policy = stored(harbor)
    assert policy["enabled"] is False
    for key, value in dict(description="kept", dest_namespace="ns", dest_namespace_replace_count=2, speed=100,
                           copy_by_chunk=True, single_active_replication=True, deletion=True,
                           dest_registry_id=dr).items():
        assert policy[key] == value, key
    assert policy["filters"] == [{"type": "name", "value": "a/**"},
                                 {"type": "tag", "value": "v*", "decoration": "matches"}]
    assert policy["trigger"] == {"type": "scheduled", "trigger_settings": {"cron": "0 0 3 * * *"}}
    before, after = result["diff"]["before"], result["diff"]["after"]
    assert {k for k in before if before[k] != after[k]} == {"enabled"}
    assert result["policy"]["enabled"] is False


def test_change_of_direction_and_endpoint(run_module, harbor, api, dr):
    policy_id = fake_replication.add_policy(harbor, "to-dr", dr)
    failed, result = run(run_module, api, name="to-dr", direction="pull")
    assert not failed and result["changed"]
    assert (stored(harbor)["src_registry_id"], stored(harbor)["dest_registry_id"]) == (dr, 0)
    other = harbor.add_registry("hub")
    failed, result = run(run_module, api, diff=True, name="to-dr", registry="hub")
    assert not failed and result["changed"] and stored(harbor)["src_registry_id"] == other
    assert (result["diff"]["before"]["registry"], result["diff"]["after"]["registry"]) == ("dr", "hub")
    assert len(harbor.sent("PUT", "%s/%d" % (POLICIES, policy_id))) == 2


def test_filters_replace_and_empty_list_removes(run_module, harbor, api, dr):
    fake_replication.add_policy(harbor, "to-dr", dr, filters=[{"type": "name", "value": "a/**"}])
    failed, result = run(run_module, api, name="to-dr", filters=[dict(type="name", value="a/**")])
    assert not failed and not result["changed"]
    failed, result = run(run_module, api, name="to-dr", filters=[])
    assert not failed and result["changed"] and stored(harbor)["filters"] == []


def test_unknown_registry_fails_naming_it(run_module, harbor, api, dr):
    failed, result = run(run_module, api, name="to-x", direction="push", registry="nowhere")
    assert failed and "'nowhere' does not exist" in result["msg"] and "replication policy to-x" in result["msg"]
    assert harbor.writes() == []
    fake_replication.add_policy(harbor, "to-dr", dr)
    failed, result = run(run_module, api, name="to-dr", registry="nowhere")
    assert failed and "'nowhere' does not exist" in result["msg"] and harbor.writes() == []


@pytest.mark.parametrize("args, message", [
    (dict(trigger=dict(type="scheduled")), "trigger.type=scheduled needs trigger.cron"),
    (dict(trigger=dict(type="manual", cron="0 0 2 * * *")), "trigger.cron is for trigger.type=scheduled only"),
    (dict(trigger=dict(type="scheduled", cron="0 2 * * *")), "must have six fields"),
    (dict(trigger=dict(type="scheduled", cron="5 0 2 * * *")), "wants 0 in its first field"),
    (dict(trigger=dict(type="scheduled", cron="0 * 2 * * *")), "does not allow * in its second field"),
    (dict(filters=[dict(type="name", value="a/**", decoration="excludes")]), "decoration is for tag and label"),
    (dict(filters=[dict(type="resource", value="chart")]), "value must be one of image, artifact"),
    (dict(filters=[dict(type="tag", value=["a"])]), "value must be a non-empty string"),
    (dict(filters=[dict(type="label", value=[])]), "a list of label names"),
    (dict(speed=-2), "speed must be -1 or 0"),
    (dict(dest_namespace_replace_count=-3), "dest_namespace_replace_count must be"),
    (dict(run=True, enabled=False), "Harbor starts enabled policies only"),
    (dict(run=True, state="absent"), "run=true needs state=present"),
])
def test_refused_before_any_request(run_module, harbor, api, args, message):
    failed, result = run(run_module, api, **dict(PUSH, **args))
    assert failed and message in result["msg"] and harbor.requests == []


def test_bad_filter_type_refused_by_the_argument_spec(run_module, harbor, api):
    failed, result = run(run_module, api, filters=[dict(type="size", value="1")], **PUSH)
    assert failed and "size" in result["msg"] and harbor.requests == []


def test_direction_and_registry_needed_to_create(run_module, harbor, api, dr):
    failed, result = run(run_module, api, name="to-dr", registry="dr")
    assert failed and result["msg"] == "direction is required to create replication policy to-dr"
    failed, result = run(run_module, api, name="to-dr", direction="push")
    assert failed and result["msg"] == "registry is required to create replication policy to-dr"
    assert harbor.writes() == []


def test_delete(run_module, harbor, api, dr):
    policy_id = fake_replication.add_policy(harbor, "to-dr", dr)
    failed, result = run(run_module, api, check_mode=True, diff=True, name="to-dr", state="absent")
    assert not failed and result["changed"] and harbor.writes() == [] and stored(harbor)
    assert result["diff"]["before"]["name"] == "to-dr" and result["diff"]["after"] == {}
    failed, result = run(run_module, api, name="to-dr", state="absent")
    assert not failed and result["changed"] and result["policy"] is None and stored(harbor) is None
    assert harbor.writes() == [("DELETE", "%s/%d" % (POLICIES, policy_id))]
    failed, result = run(run_module, api, name="to-dr", state="absent")
    assert not failed and not result["changed"]


def test_delete_refused_while_an_execution_runs(run_module, harbor, api, dr):
    fake_replication.add_policy(harbor, "to-dr", dr)
    harbor.replication_statuses = ["InProgress"]
    failed, result = run(run_module, api, name="to-dr", run=True, wait=False)
    assert not failed and result["execution"]["status"] == "InProgress"
    failed, result = run(run_module, api, name="to-dr", state="absent")
    assert failed and result["status"] == 412 and stored(harbor)
    assert "HTTP 412 PRECONDITION: contains executions that aren't in final status" in result["msg"]


def test_run_and_wait_success(run_module, harbor, api, dr):
    harbor.replication_statuses = ["InProgress", "InProgress", "Succeed"]
    failed, result = run(run_module, api, diff=True, run=True, **PUSH)
    assert not failed and result["changed"]
    policy_id = stored(harbor)["id"]
    assert harbor.sent("POST", EXECUTIONS)[0]["body"] == {"policy_id": policy_id}
    execution = result["execution"]
    assert (execution["status"], execution["policy_id"], execution["trigger"]) == ("Succeed", policy_id, "manual")
    assert (execution["total"], execution["succeed"], execution["failed"]) == (2, 2, 0)
    assert len(harbor.sent("GET", "%s/%d" % (EXECUTIONS, execution["id"]))) == 3
    assert result["diff"]["after"]["name"] == "to-dr"
    failed, result = run(run_module, api, run=True, **PUSH)  # an unchanged policy: the run is the change
    assert not failed and result["changed"] and result["execution"]["status"] == "Succeed"
    assert [w[0] for w in harbor.writes()] == ["POST", "POST", "POST"]


def test_run_ending_failed_fails(run_module, harbor, api, dr):
    fake_replication.add_policy(harbor, "to-dr", dr)
    harbor.replication_statuses = ["InProgress", "Failed"]
    failed, result = run(run_module, api, name="to-dr", run=True)
    assert failed and result["changed"] and result["execution"]["status"] == "Failed"
    assert "ended with status Failed (1 of 2 tasks failed): 1 of 2 tasks failed" in result["msg"]
    assert "/replication/executions/%d/tasks" % result["execution"]["id"] in result["msg"]


def test_run_stopped_fails(run_module, harbor, api, dr):
    fake_replication.add_policy(harbor, "to-dr", dr)
    harbor.replication_statuses = ["Stopped"]
    failed, result = run(run_module, api, name="to-dr", run=True)
    assert failed and "ended with status Stopped" in result["msg"]


def test_run_wait_timeout(run_module, harbor, api, dr):
    fake_replication.add_policy(harbor, "to-dr", dr)
    harbor.replication_statuses = ["InProgress"]
    failed, result = run(run_module, api, name="to-dr", run=True, wait_timeout=0)
    assert failed and result["changed"] and result["execution"]["status"] == "InProgress"
    assert "did not end within 0 seconds (its status is InProgress, 0 of 2 tasks done); it goes on in Harbor" in (
        result["msg"])


def test_run_of_a_disabled_policy_surfaces_harbor_412(run_module, harbor, api, dr):
    policy_id = fake_replication.add_policy(harbor, "to-dr", dr, enabled=False)
    failed, result = run(run_module, api, name="to-dr", run=True)
    assert failed and result["status"] == 412
    assert "HTTP 412 PRECONDITION: the policy %d is disabled" % policy_id in result["msg"]


def test_harbor_400_message_surfaced(run_module, harbor, api, dr):
    failed, result = run(run_module, api, dest_namespace="Bad Namespace", **PUSH)
    assert failed and result["status"] == 400 and result["method"] == "POST"
    assert result["msg"].startswith("POST /api/v2.0/replication/policies (replication policy to-dr): HTTP 400 "
                                    "BAD_REQUEST: invalid destination namespace: Bad Namespace")


def test_duplicate_name_conflict_surfaced(run_module, harbor, api, dr):
    harbor.fail(409, method="POST", path=POLICIES,
                body={"errors": [{"code": "CONFLICT", "message": "replication policy to-dr already exists"}]})
    failed, result = run(run_module, api, **PUSH)
    assert failed and result["status"] == 409
    assert "HTTP 409 CONFLICT: replication policy to-dr already exists" in result["msg"]


def test_lookup_pages_through_many_policies(run_module, harbor, api, dr):
    for index in range(120):
        fake_replication.add_policy(harbor, "p%03d" % index, dr)
    fake_replication.add_policy(harbor, "to-dr", dr, description="found")
    failed, result = run(run_module, api, name="to-dr", description="found")
    assert not failed and not result["changed"] and result["policy"]["description"] == "found"
    assert harbor.sent("GET", POLICIES)[0]["query"]["q"] == "name=to-dr"
