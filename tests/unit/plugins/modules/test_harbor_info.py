"""harbor_info against the fake Harbor of tests/unit/plugins/fake_harbor.py."""

import json

import pytest

from ansible_collections.harbor.deploy.plugins.modules import harbor_info


def run(run_module, api, check_mode=False, **args):
    return run_module(harbor_info, dict(api, **args), check_mode=check_mode)


def test_default_is_systeminfo_and_health(run_module, harbor, api):
    failed, result = run(run_module, api)
    assert not failed and not result["changed"]
    assert result["systeminfo"]["harbor_version"] == "v2.15.2-fake" and result["health"]["status"] == "healthy"
    assert {r["path"] for r in harbor.requests} == {"/systeminfo", "/health"}


@pytest.mark.parametrize("check_mode", [False, True])
def test_all_reads_everything_and_writes_nothing(run_module, harbor, api, check_mode):
    harbor.add_project("apps")
    harbor.add_registry("hub", credential={"type": "basic", "access_key": "me", "access_secret": "hidden"})
    _, robot_secret = harbor.add_robot("auto")
    harbor.config["ldap_search_password"] = "Pw-of-LDAP"
    harbor.gc_schedule = {"id": 99, "job_name": "GARBAGE_COLLECTION", "job_parameters": "{}",
                          "schedule": {"type": "Daily", "cron": "0 0 0 * * *"}}
    failed, result = run(run_module, api, check_mode=check_mode, gather=["all"])
    assert not failed and not result["changed"] and harbor.writes() == []
    assert [p["name"] for p in result["projects"]] == ["apps"]
    assert [r["name"] for r in result["registries"]] == ["hub"]
    assert result["registries"][0]["credential"]["access_secret"] == "*****"
    assert [r["name"] for r in result["robots"]] == ["robot$auto"]
    assert result["gc_schedule"]["schedule"]["type"] == "Daily"
    assert result["configurations"]["auth_mode"] == {"value": "db_auth", "editable": True}
    text = json.dumps(result)
    assert "hidden" not in text and robot_secret not in text and "Pw-of-LDAP" not in text


def test_projects_by_name(run_module, harbor, api):
    harbor.add_project("apps")
    harbor.add_project("other")
    failed, result = run(run_module, api, gather=["projects"], project_names=["apps", "nope"])
    assert not failed and [p["name"] for p in result["projects"]] == ["apps"]
    assert result["missing_projects"] == ["nope"] and "systeminfo" not in result


def test_all_projects_read_page_after_page(run_module, harbor, api):
    for index in range(130):
        harbor.add_project("p%03d" % index)
    failed, result = run(run_module, api, gather=["projects"])
    assert not failed and len(result["projects"]) == 130 and len(harbor.sent("GET", "/projects")) == 2
    assert "missing_projects" not in result


def test_no_gc_schedule_is_null(run_module, harbor, api):
    failed, result = run(run_module, api, gather=["gc_schedule"])
    assert not failed and result["gc_schedule"] is None


def test_5xx_is_retried_then_fails_naming_the_reading(run_module, harbor, api):
    harbor.fail(500, times=4, method="GET", path="/registries")
    failed, result = run(run_module, api, gather=["registries"])
    assert failed and result["status"] == 500 and len(harbor.sent("GET", "/registries")) == 4
    assert result["msg"].startswith("GET /api/v2.0/registries (registry endpoints): HTTP 500")
    assert "(after 4 attempts)" in result["msg"]


def test_unknown_gather_refused(run_module, harbor, api):
    failed, result = run(run_module, api, gather=["users"])
    assert failed and "gather" in result["msg"] and harbor.requests == []
