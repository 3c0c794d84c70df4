"""harbor_retention against the fake Harbor of tests/unit/plugins/fake_harbor.py (fake_retention.py)."""

import pytest

from ansible_collections.harbor.deploy.plugins.modules import harbor_retention
import fake_retention
from fake_retention import add_policy

KEEP_10 = {"template": "latestPushedK", "count": 10}
SHORT_KEEP_10 = {"template": "latestPushedK", "count": 10, "tags": "**", "tags_decoration": "matches",
                 "untagged": True, "repositories": "**", "repositories_decoration": "matches", "disabled": False}


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch):
    monkeypatch.setattr(harbor_retention, "POLL_INTERVAL", 0.01)


@pytest.fixture
def project(harbor):
    return harbor.add_project("web")


def run(run_module, api, check_mode=False, diff=False, **args):
    return run_module(harbor_retention, dict(api, _ansible_diff=diff, **args), check_mode=check_mode)


def policy_id(harbor, name="web"):
    value = harbor.projects[name]["metadata"].get("retention_id")
    return int(value) if value else None


def test_create(run_module, harbor, api, project):
    failed, result = run(run_module, api, diff=True, project="web", rules=[KEEP_10], schedule="0 0 3 * * *")
    assert not failed and result["changed"]
    assert harbor.writes() == [("POST", "/retentions")]
    pid = policy_id(harbor)
    assert pid and result["policy"]["id"] == pid
    assert harbor.sent("POST", "/retentions")[0]["body"] == {
        "algorithm": "or",
        "rules": [{"id": 1, "priority": 0, "disabled": False, "action": "retain", "template": "latestPushedK",
                   "params": {"latestPushedK": 10},
                   "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "**",
                                      "extras": '{"untagged":true}'}],
                   "scope_selectors": {"repository": [{"kind": "doublestar", "decoration": "repoMatches",
                                                       "pattern": "**"}]}}],
        "trigger": {"kind": "Schedule", "settings": {"cron": "0 0 3 * * *"}, "references": {}},
        "scope": {"level": "project", "ref": project["project_id"]}}
    assert result["policy"]["trigger"]["settings"] == {"cron": "0 0 3 * * *"}
    assert result["diff"] == {"before": {}, "after": {"schedule": "0 0 3 * * *", "rules": [SHORT_KEEP_10]}}
    assert "execution" not in result


def test_rerun_changes_nothing(run_module, harbor, api, project):
    rules = [KEEP_10, {"template": "nDaysSinceLastPull", "days": 30, "repositories": "ci-*", "untagged": False}]
    assert run(run_module, api, project="web", rules=rules, schedule="0 0 3 * * *")[1]["changed"]
    writes = len(harbor.writes())
    failed, result = run(run_module, api, diff=True, project="web", rules=rules, schedule="0  0 3 * * * ")
    assert not failed and not result["changed"] and len(harbor.writes()) == writes
    assert result["diff"]["before"] == result["diff"]["after"]
    assert result["policy"]["id"] == policy_id(harbor)


def test_check_mode_writes_nothing(run_module, harbor, api, project):
    failed, result = run(run_module, api, check_mode=True, diff=True, project="web", rules=[KEEP_10])
    assert not failed and result["changed"] and result["policy"] is None
    assert harbor.writes() == [] and policy_id(harbor) is None and not harbor.__dict__.get("retentions")
    assert result["diff"]["after"] == {"schedule": "", "rules": [SHORT_KEEP_10]}


def test_update_rules(run_module, harbor, api, project):
    run(run_module, api, project="web", rules=[KEEP_10], schedule="0 0 3 * * *")
    pid = policy_id(harbor)
    rules = [{"template": "latestPulledN", "count": 5, "tags": "v*", "tags_decoration": "excludes",
              "untagged": False, "repositories": "tmp/**", "repositories_decoration": "excludes", "disabled": True},
             {"template": "always", "tags": "release-*"}]
    failed, result = run(run_module, api, diff=True, project="web", rules=rules)
    assert not failed and result["changed"]
    assert harbor.writes()[1:] == [("PUT", "/retentions/%d" % pid)]
    body = harbor.sent("PUT", "/retentions/%d" % pid)[0]["body"]
    assert body["id"] == pid and body["scope"] == {"level": "project", "ref": project["project_id"]}
    assert body["trigger"] == {"kind": "Schedule", "settings": {"cron": "0 0 3 * * *"}}  # as Harbor has it
    first, second = body["rules"]
    assert (first["template"], first["params"], first["disabled"]) == ("latestPulledN", {"latestPulledN": 5}, True)
    assert first["tag_selectors"] == [{"kind": "doublestar", "decoration": "excludes", "pattern": "v*",
                                       "extras": '{"untagged":false}'}]
    assert first["scope_selectors"] == {"repository": [{"kind": "doublestar", "decoration": "repoExcludes",
                                                        "pattern": "tmp/**"}]}
    assert (second["template"], second["params"]) == ("always", {})
    assert result["diff"]["before"]["rules"] == [SHORT_KEEP_10]
    assert [r["template"] for r in result["diff"]["after"]["rules"]] == ["latestPulledN", "always"]
    assert result["diff"]["after"]["schedule"] == "0 0 3 * * *"
    assert [r["template"] for r in result["policy"]["rules"]] == ["latestPulledN", "always"]
    failed, result = run(run_module, api, project="web", rules=rules)
    assert not failed and not result["changed"]
    # the order of the rules counts
    failed, result = run(run_module, api, project="web", rules=list(reversed(rules)))
    assert not failed and result["changed"]


def test_schedule_change_keeps_the_rules(run_module, harbor, api, project):
    run(run_module, api, project="web", rules=[KEEP_10], schedule="0 0 3 * * *")
    pid = policy_id(harbor)
    rules = harbor.retentions[pid]["rules"]
    failed, result = run(run_module, api, diff=True, project="web", schedule="0 30 1 * * 6")
    assert not failed and result["changed"]
    body = harbor.sent("PUT", "/retentions/%d" % pid)[0]["body"]
    assert body["trigger"]["settings"] == {"cron": "0 30 1 * * 6"}
    assert body["rules"] == fake_retention.policy_out(pid, harbor.retentions[pid])["rules"]
    assert harbor.retentions[pid]["rules"] == rules
    assert result["diff"]["before"]["schedule"] == "0 0 3 * * *"
    assert result["diff"]["after"] == {"schedule": "0 30 1 * * 6", "rules": [SHORT_KEEP_10]}
    failed, result = run(run_module, api, project="web", schedule="")
    assert not failed and result["changed"]
    assert harbor.retentions[pid]["trigger"]["settings"] == {"cron": ""}
    assert harbor.retentions[pid]["rules"] == rules
    failed, result = run(run_module, api, project="web", schedule="")
    assert not failed and not result["changed"]


def test_a_policy_made_elsewhere(run_module, harbor, api, project):
    """Harbor's own proxy cache default: a rule without extras, so untagged counts as true."""
    pid = add_policy(harbor, "web", cron="0 0 0 * * *", rules=[{
        "id": 1, "priority": 1, "action": "retain", "template": "nDaysSinceLastPull",
        "params": {"nDaysSinceLastPull": 7},
        "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "**"}],
        "scope_selectors": {"repository": [{"kind": "doublestar", "decoration": "repoMatches", "pattern": "**"}]}}])
    args = dict(project="web", rules=[{"template": "nDaysSinceLastPull", "days": 7}], schedule="0 0 0 * * *")
    failed, result = run(run_module, api, **args)
    assert not failed and not result["changed"] and harbor.writes() == [] and result["policy"]["id"] == pid
    # a label selector does not fit the short form: it shows as Harbor has it, and is replaced
    harbor.retentions[pid]["rules"][0]["tag_selectors"].append({"kind": "label", "decoration": "withLabels",
                                                                "pattern": "keep", "extras": ""})
    failed, result = run(run_module, api, diff=True, **args)
    assert not failed and result["changed"]
    assert len(result["diff"]["before"]["rules"][0]["tag_selectors"]) == 2
    assert len(harbor.retentions[pid]["rules"][0]["tag_selectors"]) == 1


def test_unknown_project(run_module, harbor, api):
    failed, result = run(run_module, api, project="nope", rules=[KEEP_10])
    assert failed and "Harbor has no project named 'nope'" in result["msg"] and harbor.writes() == []


def test_new_policy_needs_rules(run_module, harbor, api, project):
    failed, result = run(run_module, api, project="web", schedule="0 0 3 * * *")
    assert failed and "project web has no retention policy: give rules" in result["msg"]
    assert harbor.writes() == []


@pytest.mark.parametrize("args, message", [
    (dict(rules=[{"template": "latestK", "count": 1}]), "value of template must be one of: latestPushedK"),
    (dict(rules=[{"template": "latestPushedK"}]), "rules[1] (latestPushedK) of the retention policy of project web "
                                                  "needs count"),
    (dict(rules=[{"template": "nDaysSinceLastPush", "count": 3}]), "count is not a parameter of this template "
                                                                   "(it takes days)"),
    (dict(rules=[{"template": "always", "days": 3}]), "days is not a parameter of this template (it takes none)"),
    (dict(rules=[{"template": "latestPulledN", "count": 40000}]), "count must be from 0 to 32766, not 40000"),
    (dict(rules=[{"template": "always", "tags": ""}]), "tags must be a pattern"),
    (dict(rules=[KEEP_10] * 16), "may have at most 15 rules (Harbor's limit), not 16"),
    (dict(rules=[KEEP_10, {"template": "always"}, dict(KEEP_10, tags="**")]),
     "rules[3] of the retention policy of project web is the same as rules[1]"),
    (dict(rules=[KEEP_10], schedule="0 3 * * *"), "must be a cron expression of six fields"),
    (dict(rules=[KEEP_10], schedule="30 0 3 * * *"), "Harbor wants the first field (the seconds) to be 0"),
    (dict(rules=[KEEP_10], run=True, wait_timeout=-1), "wait_timeout must be 0 or more seconds"),
    (dict(state="absent", run=True), "run=true needs state=present"),
])
def test_refused_before_any_request(run_module, harbor, api, project, args, message):
    failed, result = run(run_module, api, project="web", **args)
    assert failed and message in result["msg"] and harbor.requests == []


def test_harbor_400_is_surfaced(run_module, harbor, api, project):
    failed, result = run(run_module, api, project="web", rules=[KEEP_10], schedule="0 0 25 * * *")
    assert failed and result["status"] == 400 and policy_id(harbor) is None
    assert ("POST /api/v2.0/retentions (retention policy of project web): HTTP 400 BAD_REQUEST: invalid cron string "
            "for scheduled tag retention: 0 0 25 * * *") in result["msg"]


def test_absent(run_module, harbor, api, project):
    run(run_module, api, project="web", rules=[KEEP_10])
    pid = policy_id(harbor)
    failed, result = run(run_module, api, check_mode=True, diff=True, project="web", state="absent")
    assert not failed and result["changed"] and result["policy"]["id"] == pid
    assert [w for w in harbor.writes() if w[0] == "DELETE"] == [] and policy_id(harbor) == pid
    assert result["diff"] == {"before": {"schedule": "", "rules": [SHORT_KEEP_10]}, "after": {}}
    failed, result = run(run_module, api, project="web", state="absent")
    assert not failed and result["changed"] and result["policy"] is None
    assert harbor.writes()[-1] == ("DELETE", "/retentions/%d" % pid)
    assert "retention_id" not in harbor.projects["web"]["metadata"] and not harbor.retentions
    writes = len(harbor.writes())
    failed, result = run(run_module, api, project="web", state="absent")
    assert not failed and not result["changed"] and len(harbor.writes()) == writes
    # a project that does not exist has no policy
    failed, result = run(run_module, api, project="gone", state="absent")
    assert not failed and not result["changed"]
    # and a new policy can be made again
    failed, result = run(run_module, api, project="web", rules=[KEEP_10])
    assert not failed and result["changed"] and policy_id(harbor) not in (None, pid)


def test_run_and_wait_success(run_module, harbor, api, project):
    harbor.retention_statuses = ["Running", "Running", "Success"]
    failed, result = run(run_module, api, project="web", rules=[KEEP_10], run=True, dry_run=True)
    assert not failed and result["changed"]
    pid = policy_id(harbor)
    executions = "/retentions/%d/executions" % pid
    assert harbor.writes() == [("POST", "/retentions"), ("POST", executions)]
    assert harbor.sent("POST", executions)[0]["body"] == {"dry_run": True}
    execution = result["execution"]
    assert (execution["status"], execution["policy_id"], execution["dry_run"]) == ("Success", pid, True)
    assert len(harbor.sent("GET", executions)) == 3
    # a run of the policy as it is: no change to it, a change all the same
    failed, result = run(run_module, api, project="web", run=True)
    assert not failed and result["changed"] and result["execution"]["status"] == "Success"
    assert harbor.writes()[-1] == ("POST", executions) and len(harbor.sent("PUT", "/retentions/%d" % pid)) == 0


def test_run_finds_its_execution_on_a_later_page(run_module, harbor, api, project, monkeypatch):
    monkeypatch.setattr(harbor_retention, "EXECUTIONS_PAGE", 2)
    monkeypatch.setattr(fake_retention, "NEWEST_FIRST", False)
    run(run_module, api, project="web", rules=[KEEP_10])
    pid = policy_id(harbor)
    for _ in range(3):
        assert not run(run_module, api, project="web", run=True)[0]
    failed, result = run(run_module, api, project="web", run=True)
    assert not failed and result["execution"]["id"] == max(harbor.retention_executions)
    assert result["execution"]["policy_id"] == pid and result["execution"]["status"] == "Success"
    pages = [r["query"]["page"] for r in harbor.sent("GET", "/retentions/%d/executions" % pid)]
    assert pages[-2:] == ["1", "2"]


def test_run_without_wait(run_module, harbor, api, project):
    failed, result = run(run_module, api, project="web", rules=[KEEP_10], run=True, wait=False)
    assert not failed and result["changed"] and result["execution"]["status"] == "Running"


def test_run_ends_in_error(run_module, harbor, api, project):
    harbor.retention_statuses = ["Running", "Error"]
    failed, result = run(run_module, api, project="web", rules=[KEEP_10], run=True)
    assert failed and result["changed"] and result["execution"]["status"] == "Error"
    assert "retention execution %d of project web ended with status Error" % result["execution"]["id"] in result["msg"]
    assert result["policy"]["id"] == policy_id(harbor)


def test_run_stopped_fails(run_module, harbor, api, project):
    harbor.retention_statuses = ["Stopped"]
    failed, result = run(run_module, api, project="web", rules=[KEEP_10], run=True)
    assert failed and "ended with status Stopped" in result["msg"]


def test_run_wait_timeout(run_module, harbor, api, project):
    harbor.retention_statuses = ["Running"]
    failed, result = run(run_module, api, project="web", rules=[KEEP_10], run=True, wait_timeout=0)
    assert failed and result["changed"]
    assert "did not end within 0 seconds (its status is Running); it goes on in Harbor" in result["msg"]


def test_run_in_check_mode_starts_nothing(run_module, harbor, api, project):
    failed, result = run(run_module, api, check_mode=True, project="web", rules=[KEEP_10], run=True)
    assert not failed and result["changed"] and harbor.writes() == [] and "execution" not in result


def test_policy_of_another_id_is_refused(run_module, harbor, api, project):
    """A PUT the project does not name: Harbor's 404 is surfaced with the resource."""
    run(run_module, api, project="web", rules=[KEEP_10])
    pid = policy_id(harbor)
    harbor.fail(404, method="PUT", path="/retentions/", body={"errors": [{
        "code": "NOT_FOUND", "message": "the retention policy id %d does not match" % pid}]})
    failed, result = run(run_module, api, project="web", rules=[{"template": "always"}])
    assert failed and result["status"] == 404
    assert "(retention policy of project web (id %d)): HTTP 404 NOT_FOUND: the retention policy id" % pid \
        in result["msg"]
