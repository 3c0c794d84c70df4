"""harbor_config against the fake Harbor of tests/unit/plugins/fake_harbor.py."""

import json

from ansible_collections.harbor.deploy.plugins.modules import harbor_config

PASSWORD = "Ld4p-S3arch-Pw"


def run(run_module, api, check_mode=False, diff=False, **args):
    return run_module(harbor_config, dict(api, _ansible_diff=diff, **args), check_mode=check_mode)


def test_update_sends_only_what_changed(run_module, harbor, api):
    settings = {"project_creation_restriction": "adminonly", "self_registration": False, "token_expiration": "45"}
    failed, result = run(run_module, api, diff=True, settings=settings)
    assert not failed and result["changed"] and result["changed_keys"] == ["project_creation_restriction",
                                                                           "token_expiration"]
    assert harbor.sent("PUT", "/configurations")[0]["body"] == {"project_creation_restriction": "adminonly",
                                                               "token_expiration": 45}
    assert harbor.config["project_creation_restriction"] == "adminonly" and harbor.config["token_expiration"] == 45
    assert result["configurations"]["token_expiration"] == {"value": 45, "editable": True}
    assert result["diff"] == {
        "before": {"project_creation_restriction": "everyone", "self_registration": False, "token_expiration": 30},
        "after": {"project_creation_restriction": "adminonly", "self_registration": False, "token_expiration": 45}}


def test_rerun_changes_nothing(run_module, harbor, api):
    settings = {"read_only": True, "robot_token_duration": 90, "oidc_scope": "openid,offline_access"}
    assert run(run_module, api, settings=settings)[1]["changed"]
    writes = len(harbor.writes())
    failed, result = run(run_module, api, settings=settings)
    assert not failed and not result["changed"] and result["changed_keys"] == [] and len(harbor.writes()) == writes


def test_check_mode_writes_nothing(run_module, harbor, api):
    failed, result = run(run_module, api, check_mode=True, diff=True, settings={"read_only": True})
    assert not failed and result["changed"] and harbor.writes() == [] and harbor.config["read_only"] is False
    assert result["diff"] == {"before": {"read_only": False}, "after": {"read_only": True}}


def test_unknown_keys_refused_before_any_request(run_module, harbor, api):
    failed, result = run(run_module, api, settings={"read_only": True, "readonly": True, "ldap_pasword": "x"})
    assert failed and harbor.requests == []
    assert "settings.ldap_pasword" in result["msg"] and "settings.readonly" in result["msg"]


def test_wrong_type_refused_before_any_request(run_module, harbor, api):
    failed, result = run(run_module, api, settings={"token_expiration": "an hour"})
    assert failed and harbor.requests == [] and "token_expiration" in result["msg"]
    failed, result = run(run_module, api, settings={"auth_mode": "kerberos"})
    assert failed and harbor.requests == [] and "auth_mode" in result["msg"]


def test_write_only_secret_sent_only_when_listed(run_module, harbor, api):
    settings = {"ldap_url": "ldaps://ldap.example.com", "ldap_search_password": PASSWORD}
    failed, result = run(run_module, api, diff=True, settings=settings)
    assert not failed and result["changed"] and result["changed_keys"] == ["ldap_url"]
    assert harbor.sent("PUT", "/configurations")[0]["body"] == {"ldap_url": "ldaps://ldap.example.com"}
    assert harbor.config["ldap_search_password"] == ""
    assert "ldap_search_password" not in result["diff"]["after"]
    failed, result = run(run_module, api, diff=True, settings=settings, update_secrets=["ldap_search_password"])
    assert not failed and result["changed"] and result["changed_keys"] == ["ldap_search_password"]
    assert harbor.sent("PUT", "/configurations")[1]["body"] == {"ldap_search_password": PASSWORD}
    assert harbor.config["ldap_search_password"] == PASSWORD
    assert result["diff"]["before"]["ldap_search_password"] == "(not shown)"
    assert result["diff"]["after"]["ldap_search_password"] == "(new, not shown)"
    assert PASSWORD not in json.dumps(result)
    assert "ldap_search_password" not in result["configurations"]


def test_check_mode_secret_masked(run_module, harbor, api):
    failed, result = run(run_module, api, check_mode=True, diff=True, settings={"oidc_client_secret": PASSWORD},
                         update_secrets=["oidc_client_secret"])
    assert not failed and result["changed"] and harbor.writes() == [] and harbor.config["oidc_client_secret"] == ""
    assert PASSWORD not in json.dumps(result)


def test_update_secrets_must_be_in_settings(run_module, harbor, api):
    failed, result = run(run_module, api, settings={"read_only": False}, update_secrets=["oidc_client_secret"])
    assert failed and result["msg"] == "update_secrets lists oidc_client_secret, not in settings"
    assert harbor.requests == []


def test_locked_setting_fails_before_any_change(run_module, harbor, api):
    harbor.config_locked.add("auth_mode")
    failed, result = run(run_module, api, settings={"auth_mode": "db_auth", "read_only": True})
    assert not failed and result["changed"]  # the same value: nothing to refuse
    failed, result = run(run_module, api, settings={"auth_mode": "oidc_auth", "read_only": False})
    assert failed and "editable is false" in result["msg"] and "auth_mode (is 'db_auth', wanted 'oidc_auth')" in \
        result["msg"]
    assert harbor.config["read_only"] is True and len(harbor.sent("PUT", "/configurations")) == 1


def test_harbor_refusal_names_the_resource(run_module, harbor, api):
    harbor.fail(400, method="PUT", body={"errors": [{"code": "BAD_REQUEST", "message": "invalid ldap_url"}]})
    failed, result = run(run_module, api, settings={"ldap_url": "nope"})
    assert failed and result["msg"].startswith("PUT /api/v2.0/configurations (system configuration): HTTP 400 "
                                               "BAD_REQUEST: invalid ldap_url")


def test_5xx_is_retried(run_module, harbor, api):
    harbor.fail(503, times=3, method="GET", path="/configurations")
    failed, result = run(run_module, api, settings={"read_only": True})
    assert not failed and result["changed"] and len(harbor.sent("GET", "/configurations")) == 5
