"""harbor_robot against the fake Harbor of tests/unit/plugins/fake_harbor.py."""

import json
import os
import stat

import pytest

from ansible_collections.harbor.deploy.plugins.modules import harbor_robot

PULL = {"resource": "repository", "action": "pull"}
PUSH = {"resource": "repository", "action": "push"}
READ = {"resource": "artifact", "action": "read"}
SYSTEM = [{"kind": "system", "access": [{"resource": "project", "action": "create"}]},
          {"kind": "project", "namespace": "*", "access": [PULL, PUSH]}]


def run(run_module, api, check_mode=False, diff=False, **args):
    return run_module(harbor_robot, dict(api, _ansible_diff=diff, **args), check_mode=check_mode)


def secrets_of(harbor):
    return [r["secret"] for r in harbor.robots.values()]


def shows(result, secret):
    return secret in json.dumps(result)


def test_create_system_robot_hides_the_secret(run_module, harbor, api):
    failed, result = run(run_module, api, name="auto", description="automation", permissions=SYSTEM)
    assert not failed and result["changed"] and result["secret_created"]
    robot = harbor.robot("auto")
    assert robot and robot["level"] == "system" and robot["duration"] == -1 and robot["description"] == "automation"
    body = harbor.sent("POST", "/robots")[0]["body"]
    assert body["name"] == "auto" and body["level"] == "system" and body["duration"] == -1
    assert body["permissions"] == [{"kind": "system", "namespace": "/", "access": [{"resource": "project",
                                                                                      "action": "create"}]},
                                   {"kind": "project", "namespace": "*", "access": [PULL, PUSH]}]
    assert result["robot"]["name"] == "robot$auto" and result["robot"]["id"] == robot["id"]
    assert "secret" not in result and "secret" not in result["robot"]
    assert not shows(result, robot["secret"])
    assert "is neither written (secret_file) nor returned (return_secret): it is lost" in json.dumps(
        result["warnings"])


def test_return_secret(run_module, harbor, api):
    failed, result = run(run_module, api, name="auto", permissions=SYSTEM, return_secret=True)
    assert not failed and result["secret"] == harbor.robot("auto")["secret"]


def test_secret_file(run_module, harbor, api, tmp_path):
    path = tmp_path / "robot-auto"
    failed, result = run(run_module, api, name="auto", permissions=SYSTEM, secret_file=str(path))
    assert not failed and result["changed"] and result["secret_file"] == str(path)
    secret = harbor.robot("auto")["secret"]
    assert path.read_text() == secret
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert not shows(result, secret)
    assert os.listdir(tmp_path) == ["robot-auto"]  # no temporary file left behind


def test_rerun_with_permissions_in_another_order_changes_nothing(run_module, harbor, api, tmp_path):
    path = tmp_path / "secret"
    assert run(run_module, api, name="auto", permissions=SYSTEM, secret_file=str(path))[1]["changed"]
    written = path.stat().st_mtime_ns
    shuffled = [{"kind": "project", "namespace": "*", "access": [PUSH, PULL, PUSH]},
                {"kind": "system", "namespace": "/", "access": [{"resource": "project", "action": "create"}]}]
    writes = len(harbor.writes())
    failed, result = run(run_module, api, name="auto", permissions=shuffled, secret_file=str(path))
    assert not failed and not result["changed"] and not result["secret_created"]
    assert len(harbor.writes()) == writes and path.stat().st_mtime_ns == written
    assert "secret_file" not in result and not result.get("warnings")


def test_update_permissions_description_duration(run_module, harbor, api):
    robot_id, secret = harbor.add_robot("auto", permissions=[{"kind": "project", "namespace": "*", "access": [PULL]}])
    failed, result = run(run_module, api, diff=True, name="auto", description="new", duration=30,
                         permissions=[{"namespace": "*", "access": [PULL, PUSH]}])
    assert not failed and result["changed"] and not result["secret_created"]
    assert harbor.writes() == [("PUT", "/robots/%d" % robot_id)]
    put = harbor.sent("PUT", "/robots/%d" % robot_id)[0]["body"]
    assert put["name"] == "robot$auto" and put["level"] == "system" and put["disable"] is False
    robot = harbor.robots[robot_id]
    assert robot["description"] == "new" and robot["duration"] == 30 and robot["secret"] == secret
    assert robot["permissions"] == [{"kind": "project", "namespace": "*", "access": [PULL, PUSH]}]
    before, after = result["diff"]["before"], result["diff"]["after"]
    assert before["permissions"] == [{"kind": "project", "namespace": "*", "access": [PULL]}]
    assert after["permissions"] == [{"kind": "project", "namespace": "*", "access": [PULL, PUSH]}]
    assert (before["description"], after["description"]) == ("", "new")
    assert (before["duration"], after["duration"]) == (-1, 30)
    assert "secret" not in before and "secret" not in after
    assert result["robot"]["description"] == "new"


def test_only_the_options_given_are_compared(run_module, harbor, api):
    harbor.add_robot("auto", description="kept", duration=7)
    failed, result = run(run_module, api, name="auto")
    assert not failed and not result["changed"] and harbor.writes() == []
    failed, result = run(run_module, api, name="auto", disable=True)
    assert not failed and result["changed"] and harbor.robot("auto")["disable"] is True
    assert harbor.robot("auto")["description"] == "kept" and harbor.robot("auto")["duration"] == 7


def test_disable_at_creation(run_module, harbor, api):
    # Harbor creates every robot enabled: the module disables it afterwards.
    failed, result = run(run_module, api, name="auto", permissions=SYSTEM, disable=True)
    assert not failed and result["changed"] and result["robot"]["disable"] is True
    assert harbor.robot("auto")["disable"] is True
    assert [w[0] for w in harbor.writes()] == ["POST", "PUT"]
    assert not run(run_module, api, name="auto", permissions=SYSTEM, disable=True)[1]["changed"]


def test_project_robot(run_module, harbor, api):
    harbor.add_project("apps")
    harbor.add_robot("ci")  # a system robot of the same name is another robot
    args = dict(name="ci", level="project", project="apps", duration=90, permissions=[{"access": [PULL, PUSH, READ]}])
    failed, result = run(run_module, api, **args)
    assert not failed and result["changed"]
    robot = harbor.robot("apps+ci")
    assert robot["project_id"] == harbor.projects["apps"]["project_id"] and robot["level"] == "project"
    assert result["robot"]["name"] == "robot$apps+ci"
    body = harbor.sent("POST", "/robots")[0]["body"]
    assert body["permissions"] == [{"kind": "project", "namespace": "apps", "access": [READ, PULL, PUSH]}]
    failed, result = run(run_module, api, **args)
    assert not failed and not result["changed"]
    query = harbor.sent("GET", "/robots")[-1]["query"]["q"]
    assert query == "Level=project,ProjectID=%d,name=apps+ci" % robot["project_id"]


def test_project_robot_needs_its_project(run_module, harbor, api):
    failed, result = run(run_module, api, name="ci", level="project", project="apps", permissions=[{"access": [PULL]}])
    assert failed and "project apps does not exist" in result["msg"]
    failed, result = run(run_module, api, name="ci", level="project", project="apps", state="absent")
    assert not failed and not result["changed"]
    failed, result = run(run_module, api, name="ci", level="project", permissions=[{"access": [PULL]}])
    assert failed and "level is project but all of the following are missing: project" in result["msg"]


def test_project_robot_permissions_stay_in_its_project(run_module, harbor, api):
    harbor.add_project("apps")
    harbor.add_project("other")
    failed, result = run(run_module, api, name="ci", level="project", project="apps",
                         permissions=[{"namespace": "other", "access": [PULL]}])
    assert failed and "permissions on its own project only" in result["msg"] and harbor.writes() == []


def test_system_robot_project_permission_needs_a_namespace(run_module, harbor, api):
    failed, result = run(run_module, api, name="auto", permissions=[{"access": [PULL]}])
    assert failed and "permissions[0]: a project permission of a system robot needs a namespace" in result["msg"]


def test_create_needs_permissions(run_module, harbor, api):
    failed, result = run(run_module, api, name="auto")
    assert failed and result["msg"] == "permissions are required to create system robot auto"


def test_refresh_secret(run_module, harbor, api, tmp_path):
    path = tmp_path / "secret"
    path.write_text("old")
    robot_id, old = harbor.add_robot("auto")
    failed, result = run(run_module, api, diff=True, name="auto", refresh_secret=True, secret_file=str(path))
    assert not failed and result["changed"] and result["secret_created"]
    new = harbor.robots[robot_id]["secret"]
    assert new != old and path.read_text() == new and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert harbor.writes() == [("PATCH", "/robots/%d" % robot_id)]
    assert harbor.sent("PATCH", "/robots/%d" % robot_id)[0]["body"] == {}
    assert result["diff"]["after"]["secret"] == "(new, not shown)"
    assert not shows(result, new) and "secret" not in result


def test_refresh_secret_returned_when_asked(run_module, harbor, api):
    robot_id, _ = harbor.add_robot("auto")
    failed, result = run(run_module, api, name="auto", refresh_secret=True, return_secret=True)
    assert not failed and result["secret"] == harbor.robots[robot_id]["secret"]


def test_refresh_at_creation_makes_one_secret(run_module, harbor, api):
    failed, result = run(run_module, api, name="auto", permissions=SYSTEM, refresh_secret=True, return_secret=True)
    assert not failed and [w[0] for w in harbor.writes()] == ["POST"]
    assert result["secret"] == harbor.robot("auto")["secret"]


def test_missing_secret_file_warns(run_module, harbor, api, tmp_path):
    harbor.add_robot("auto")
    failed, result = run(run_module, api, name="auto", secret_file=str(tmp_path / "lost"))
    assert not failed and not result["changed"]
    assert "does not exist and Harbor shows a secret only once" in json.dumps(result["warnings"])
    assert not (tmp_path / "lost").exists()


def test_unwritable_secret_file(run_module, harbor, api, tmp_path):
    failed, result = run(run_module, api, name="auto", permissions=SYSTEM,
                         secret_file=str(tmp_path / "missing-dir" / "secret"))
    assert failed and "has a new secret, but writing it to" in result["msg"]
    assert "refresh_secret=true" in result["msg"] and harbor.robot("auto") is not None
    assert not any(shows(result, s) for s in secrets_of(harbor))


@pytest.mark.parametrize("args", [
    dict(name="auto", permissions=SYSTEM),
    dict(name="auto", permissions=SYSTEM, secret_file="FILE"),
    dict(name="auto", refresh_secret=True),
])
def test_check_mode_changes_nothing(run_module, harbor, api, tmp_path, args):
    if "permissions" not in args:
        harbor.add_robot("auto")
    if args.get("secret_file"):
        args = dict(args, secret_file=str(tmp_path / "secret"))
    before = {k: dict(v) for k, v in harbor.robots.items()}
    failed, result = run(run_module, api, check_mode=True, diff=True, **args)
    assert not failed and result["changed"] and result["secret_created"]
    assert harbor.writes() == [] and harbor.robots == before and os.listdir(tmp_path) == []
    assert result["diff"]["after"]["secret"] == "(new, not shown)" and "secret" not in result


def test_check_mode_create_diff(run_module, harbor, api):
    failed, result = run(run_module, api, check_mode=True, diff=True, name="auto", permissions=SYSTEM, duration=3)
    assert not failed and result["robot"] is None and result["diff"]["before"] == {}
    after = result["diff"]["after"]
    assert after["name"] == "robot$auto" and after["duration"] == 3 and after["disable"] is False
    assert after["permissions"] == [
        {"kind": "project", "namespace": "*", "access": [PULL, PUSH]},
        {"kind": "system", "namespace": "/", "access": [{"resource": "project", "action": "create"}]}]


def test_delete(run_module, harbor, api):
    robot_id, _ = harbor.add_robot("auto")
    failed, result = run(run_module, api, check_mode=True, name="auto", state="absent")
    assert not failed and result["changed"] and robot_id in harbor.robots and harbor.writes() == []
    failed, result = run(run_module, api, diff=True, name="auto", state="absent")
    assert not failed and result["changed"] and result["robot"] is None and robot_id not in harbor.robots
    assert result["diff"]["before"]["name"] == "robot$auto" and result["diff"]["after"] == {}
    failed, result = run(run_module, api, name="auto", state="absent")
    assert not failed and not result["changed"]


def test_harbor_refusal_is_reported(run_module, harbor, api):
    failed, result = run(run_module, api, name="auto",
                         permissions=[{"namespace": "*", "access": [{"resource": "repository", "action": "fly"}]}])
    assert failed and result["status"] == 400 and len(harbor.sent("POST", "/robots")) == 1
    assert result["msg"].startswith("POST /api/v2.0/robots (system robot auto): HTTP 400 BAD_REQUEST: "
                                    "bad request permission: repository:fly")


def test_5xx_is_retried_then_succeeds(run_module, harbor, api):
    harbor.fail(502, times=1, method="GET", path="/robots")
    harbor.drop(times=1, method="POST", path="/robots")
    failed, result = run(run_module, api, name="auto", permissions=SYSTEM)
    assert not failed and result["changed"] and harbor.robot("auto")
    assert len(harbor.sent("POST", "/robots")) == 2


def test_authentication_failure(run_module, harbor, api):
    failed, result = run(run_module, dict(api, api_password="wrong"), name="auto", permissions=SYSTEM)
    assert failed and result["status"] == 401 and "authentication failed for user 'admin'" in result["msg"]
    assert harbor.robots == {}


def test_robot_credentials_as_api_user(run_module, harbor, api):
    harbor.add_project("apps")
    _, secret = harbor.add_robot("admin-bot", permissions=SYSTEM)
    failed, result = run(run_module, dict(api, api_username="robot$admin-bot", api_password=secret),
                         name="ci", level="project", project="apps", permissions=[{"access": [PULL]}])
    assert not failed and result["changed"]
    assert not any(shows(result, s) for s in secrets_of(harbor))
