"""harbor_project against the fake Harbor of tests/unit/plugins/fake_harbor.py."""

import pytest

from ansible_collections.harbor.deploy.plugins.modules import harbor_project
from ansible_collections.harbor.deploy.plugins.modules.harbor_project import parse_size

GIB = 1024 ** 3


def run(run_module, api, check_mode=False, diff=False, **args):
    return run_module(harbor_project, dict(api, _ansible_diff=diff, **args), check_mode=check_mode)


def test_create(run_module, harbor, api):
    failed, result = run(run_module, api, name="apps", public=True, storage_limit="10GiB", auto_scan=True,
                         prevent_vul=True, severity="high")
    assert not failed and result["changed"]
    body = harbor.sent("POST", "/projects")[0]["body"]
    assert body == {"project_name": "apps", "storage_limit": 10 * GIB,
                    "metadata": {"public": "true", "auto_scan": "true", "prevent_vul": "true", "severity": "high"}}
    assert result["project"]["name"] == "apps" and result["project"]["metadata"]["auto_scan"] == "true"
    assert result["quota"]["hard"]["storage"] == 10 * GIB
    assert harbor.project_quota("apps")["hard"]["storage"] == 10 * GIB


def test_rerun_changes_nothing(run_module, harbor, api):
    args = dict(name="apps", public=True, storage_limit=10 * GIB, auto_scan=True, severity="low")
    assert run(run_module, api, **args)[1]["changed"]
    writes = len(harbor.writes())
    failed, result = run(run_module, api, **args)
    assert not failed and not result["changed"]
    assert len(harbor.writes()) == writes  # nothing but reads
    assert result["project"]["project_id"] == harbor.projects["apps"]["project_id"]


def test_only_the_options_given_are_compared(run_module, harbor, api):
    harbor.add_project("apps", public=True, auto_scan=True, prevent_vul=True, severity="critical", storage=GIB)
    failed, result = run(run_module, api, name="apps", public=True)
    assert not failed and not result["changed"] and harbor.writes() == []
    failed, result = run(run_module, api, name="apps")
    assert not failed and not result["changed"] and harbor.writes() == []


def test_update_sends_only_what_changed(run_module, harbor, api):
    harbor.add_project("apps", public=False, auto_scan=True)
    failed, result = run(run_module, api, diff=True, name="apps", public=True, auto_scan=True, severity="high")
    assert not failed and result["changed"]
    assert harbor.writes() == [("PUT", "/projects/apps")]
    put = harbor.sent("PUT", "/projects/apps")[0]
    assert put["body"] == {"metadata": {"public": "true", "severity": "high"}}
    assert put["headers"]["X-Is-Resource-Name"] == "true"
    assert harbor.projects["apps"]["metadata"] == {"public": "true", "auto_scan": "true", "severity": "high"}
    assert result["project"]["metadata"]["public"] == "true"
    before, after = result["diff"]["before"], result["diff"]["after"]
    assert (before["public"], after["public"]) == (False, True)
    assert (before["severity"], after["severity"]) == (None, "high")
    assert before["auto_scan"] is after["auto_scan"] is True
    assert {k: v for k, v in before.items() if k not in ("public", "severity")} == {
        k: v for k, v in after.items() if k not in ("public", "severity")}
    assert "storage_limit" not in before  # not asked, not read


def test_update_storage_limit(run_module, harbor, api):
    harbor.add_project("apps", storage=GIB)
    quota_id = harbor.project_quota("apps")["id"]
    failed, result = run(run_module, api, diff=True, name="apps", storage_limit="2 GiB")
    assert not failed and result["changed"]
    assert harbor.writes() == [("PUT", "/quotas/%d" % quota_id)]
    assert harbor.sent("PUT", "/quotas/%d" % quota_id)[0]["body"] == {"hard": {"storage": 2 * GIB}}
    assert result["quota"]["hard"]["storage"] == 2 * GIB
    assert (result["diff"]["before"]["storage_limit"], result["diff"]["after"]["storage_limit"]) == (GIB, 2 * GIB)
    failed, result = run(run_module, api, name="apps", storage_limit=-1)
    assert not failed and result["changed"] and harbor.project_quota("apps")["hard"]["storage"] == -1


def test_storage_limit_without_quota_per_project(run_module, harbor, api):
    harbor.quota_per_project = False
    harbor.add_project("apps")
    failed, result = run(run_module, api, name="apps", storage_limit="1G")
    assert failed and "Harbor keeps no quota for project apps" in result["msg"]


def test_check_mode_create_changes_nothing(run_module, harbor, api):
    failed, result = run(run_module, api, check_mode=True, diff=True, name="apps", public=True, storage_limit="1G")
    assert not failed and result["changed"] and result["project"] is None
    assert harbor.writes() == [] and harbor.projects == {}
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["name"] == "apps" and result["diff"]["after"]["public"] is True
    assert result["diff"]["after"]["storage_limit"] == GIB


def test_check_mode_update_changes_nothing(run_module, harbor, api):
    harbor.add_project("apps", storage=GIB)
    failed, result = run(run_module, api, check_mode=True, diff=True, name="apps", auto_scan=True, storage_limit=-1)
    assert not failed and result["changed"] and harbor.writes() == []
    assert harbor.projects["apps"]["metadata"] == {"public": "false"}
    assert harbor.project_quota("apps")["hard"]["storage"] == GIB
    assert result["diff"]["before"]["auto_scan"] is False and result["diff"]["after"]["auto_scan"] is True
    assert (result["diff"]["before"]["storage_limit"], result["diff"]["after"]["storage_limit"]) == (GIB, -1)


def test_delete(run_module, harbor, api):
    harbor.add_project("apps")
    failed, result = run(run_module, api, check_mode=True, diff=True, name="apps", state="absent")
    assert not failed and result["changed"] and harbor.writes() == [] and "apps" in harbor.projects
    assert result["diff"]["before"]["name"] == "apps" and result["diff"]["after"] == {}
    failed, result = run(run_module, api, name="apps", state="absent")
    assert not failed and result["changed"] and result["project"] is None and "apps" not in harbor.projects
    assert harbor.writes() == [("DELETE", "/projects/apps")]
    failed, result = run(run_module, api, name="apps", state="absent")
    assert not failed and not result["changed"]


def test_delete_refused_by_harbor(run_module, harbor, api):
    harbor.add_project("apps", repo_count=2)
    failed, result = run(run_module, api, name="apps", state="absent")
    assert failed and result["status"] == 412
    assert result["msg"].startswith("DELETE /api/v2.0/projects/apps (project apps): HTTP 412 PRECONDITION: "
                                    "the project contains repositories, can not be deleted")


def test_proxy_cache_by_registry_name(run_module, harbor, api):
    registry_id = harbor.add_registry("docker-hub")
    harbor.add_registry("quay")
    failed, result = run(run_module, api, name="hub", public=True, registry_name="docker-hub")
    assert not failed and result["changed"]
    assert harbor.sent("POST", "/projects")[0]["body"]["registry_id"] == registry_id
    assert result["project"]["registry_id"] == registry_id
    assert harbor.sent("GET", "/registries")[0]["query"]["q"] == "name=docker-hub"
    failed, result = run(run_module, api, name="hub", registry_id=registry_id)
    assert not failed and not result["changed"]


def test_proxy_cache_unknown_registry(run_module, harbor, api):
    failed, result = run(run_module, api, name="hub", registry_name="nope")
    assert failed and "Harbor has no registry endpoint named 'nope'" in result["msg"] and harbor.writes() == []


def test_proxy_cache_cannot_be_added_later(run_module, harbor, api):
    harbor.add_project("apps")
    registry_id = harbor.add_registry("docker-hub")
    failed, result = run(run_module, api, name="apps", registry_id=registry_id)
    assert failed and "project apps exists and is not a proxy cache" in result["msg"]
    assert "at creation only" in result["msg"] and harbor.writes() == []


def test_content_trust_refused_on_a_proxy_cache(run_module, harbor, api):
    registry_id = harbor.add_registry("docker-hub")
    harbor.add_project("hub", registry_id=registry_id)
    failed, result = run(run_module, api, name="hub", enable_content_trust=True)
    assert failed and "Harbor ignores it for a proxy cache project" in result["msg"]


def test_registry_id_and_name_exclude_each_other(run_module, api):
    failed, result = run(run_module, api, name="hub", registry_id=1, registry_name="docker-hub")
    assert failed and "mutually exclusive" in result["msg"]


def test_5xx_is_retried_then_succeeds(run_module, harbor, api):
    harbor.fail(503, times=2, method="POST")
    failed, result = run(run_module, api, name="apps")
    assert not failed and result["changed"] and "apps" in harbor.projects
    assert len(harbor.sent("POST", "/projects")) == 3


def test_4xx_fails_at_once_with_harbor_message(run_module, harbor, api):
    harbor.add_project("apps")
    harbor.fail(403, method="PUT", body={"errors": [{"code": "FORBIDDEN", "message": "forbidden"}]})
    failed, result = run(run_module, api, name="apps", public=True)
    assert failed and len(harbor.sent("PUT", "/projects/apps")) == 1
    assert result["msg"].startswith("PUT /api/v2.0/projects/apps (project apps): HTTP 403 FORBIDDEN: user 'admin' "
                                    "may not do this: forbidden")
    assert (result["status"], result["method"], result["path"]) == (403, "PUT", "/api/v2.0/projects/apps")


def test_authentication_failure(run_module, harbor, api):
    failed, result = run(run_module, dict(api, api_password="wrong"), name="apps")
    assert failed and result["status"] == 401 and len(harbor.requests) == 1
    assert "authentication failed for user 'admin'" in result["msg"]
    assert "check api_username and api_password" in result["msg"]
    assert "wrong" not in str(result)


def test_bad_api_url(run_module, api):
    failed, result = run(run_module, dict(api, api_url="harbor.example.com"), name="apps")
    assert failed and result["msg"].startswith("api_url must be http://HOST or https://HOST")


def test_environment_fallback(run_module, harbor, api, monkeypatch):
    monkeypatch.setenv("HARBOR_URL", harbor.url + "/api/v2.0")
    monkeypatch.setenv("HARBOR_PASSWORD", api["api_password"])
    failed, result = run_module(harbor_project, {"name": "apps"})
    assert not failed and result["changed"] and "apps" in harbor.projects
    monkeypatch.setenv("HARBOR_USERNAME", "someone")
    failed, result = run_module(harbor_project, {"name": "apps"})
    assert failed and "authentication failed for user 'someone'" in result["msg"]


@pytest.mark.parametrize("value, size", [
    (-1, -1), ("-1", -1), (1024, 1024), ("1024", 1024), ("10G", 10 * GIB), ("10GiB", 10 * GIB), ("10 GB", 10 * GIB),
    ("1.5T", 1536 * GIB), ("500mib", 500 * 1024 ** 2), ("2K", 2048), ("1P", 1024 ** 5), ("7B", 7),
])
def test_parse_size(value, size):
    assert parse_size(value) == size


@pytest.mark.parametrize("value", [0, "0", -2, "-1G", "ten", "10 X", "0.1K", True, "10iB"])
def test_parse_size_refuses(value):
    with pytest.raises(ValueError, match="storage_limit"):
        parse_size(value)


def test_bad_storage_limit_fails_before_any_change(run_module, harbor, api):
    failed, result = run(run_module, api, name="apps", storage_limit="lots")
    assert failed and "storage_limit 'lots' is not a size" in result["msg"] and harbor.writes() == []
