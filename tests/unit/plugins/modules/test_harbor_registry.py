"""harbor_registry against the fake Harbor of tests/unit/plugins/fake_harbor.py."""

import json

from ansible_collections.harbor.deploy.plugins.modules import harbor_registry

SECRET = "s3cr3t-Token-42"
HUB = dict(name="hub", type="docker-hub", url="https://hub.docker.com/",
           credential=dict(access_key="me", access_secret=SECRET))


def run(run_module, api, check_mode=False, diff=False, **args):
    return run_module(harbor_registry, dict(api, _ansible_diff=diff, **args), check_mode=check_mode)


def test_create(run_module, harbor, api):
    failed, result = run(run_module, api, diff=True, description="Docker Hub", **HUB)
    assert not failed and result["changed"] and result["secret_sent"]
    body = harbor.sent("POST", "/registries")[0]["body"]
    assert body == {"name": "hub", "type": "docker-hub", "url": "https://hub.docker.com", "description": "Docker Hub",
                    "insecure": False, "credential": {"type": "basic", "access_key": "me", "access_secret": SECRET}}
    stored = harbor.registry("hub")
    assert stored["credential"]["access_secret"] == SECRET
    assert result["registry"]["id"] == stored["id"] and result["registry"]["credential"]["access_secret"] == "*****"
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["credential"] == {"type": "basic", "access_key": "me",
                                                     "access_secret": "(new, not shown)"}
    assert SECRET not in json.dumps(result)


def test_rerun_changes_nothing_and_the_secret_is_not_sent(run_module, harbor, api):
    assert run(run_module, api, **HUB)[1]["changed"]
    writes = len(harbor.writes())
    failed, result = run(run_module, api, **HUB)
    assert not failed and not result["changed"] and not result["secret_sent"]
    assert len(harbor.writes()) == writes


def test_update_sends_only_what_changed(run_module, harbor, api):
    registry_id = harbor.add_registry("hub", credential={"type": "basic", "access_key": "me", "access_secret": "old"})
    failed, result = run(run_module, api, diff=True, name="hub", insecure=True, url="https://mirror.example.com")
    assert not failed and result["changed"]
    assert harbor.writes() == [("PUT", "/registries/%d" % registry_id)]
    assert harbor.sent("PUT", "/registries/%d" % registry_id)[0]["body"] == {
        "insecure": True, "url": "https://mirror.example.com"}
    assert harbor.registries[registry_id]["credential"]["access_secret"] == "old"
    before, after = result["diff"]["before"], result["diff"]["after"]
    assert (before["insecure"], after["insecure"]) == (False, True)
    assert before["credential"]["access_secret"] == after["credential"]["access_secret"] == "(not shown)"
    assert result["registry"]["url"] == "https://mirror.example.com"


def test_secret_sent_only_with_update_secret_or_a_new_key(run_module, harbor, api):
    registry_id = harbor.add_registry("hub", credential={"type": "basic", "access_key": "me", "access_secret": "old"})
    failed, result = run(run_module, api, **HUB)  # same key: the secret cannot be compared, so it is not sent
    assert not failed and not result["changed"] and harbor.writes() == []
    failed, result = run(run_module, api, diff=True, update_secret=True, **HUB)
    assert not failed and result["changed"] and result["secret_sent"]
    assert harbor.sent("PUT", "/registries/%d" % registry_id)[0]["body"] == {"access_secret": SECRET}
    assert result["diff"]["after"]["credential"]["access_secret"] == "(new, not shown)"
    assert SECRET not in json.dumps(result)
    assert harbor.registries[registry_id]["credential"]["access_secret"] == SECRET
    failed, result = run(run_module, api, name="hub", credential=dict(access_key="you", access_secret="other"))
    assert not failed and result["changed"] and result["secret_sent"]
    assert harbor.sent("PUT", "/registries/%d" % registry_id)[1]["body"] == {
        "credential_type": "basic", "access_key": "you", "access_secret": "other"}


def test_update_secret_needs_the_secret(run_module, harbor, api):
    failed, result = run(run_module, api, name="hub", update_secret=True, credential=dict(access_key="me"))
    assert failed and "update_secret=true needs credential.access_secret" in result["msg"] and harbor.requests == []


def test_check_mode_writes_nothing(run_module, harbor, api):
    failed, result = run(run_module, api, check_mode=True, diff=True, **HUB)
    assert not failed and result["changed"] and result["registry"] is None
    assert harbor.writes() == [] and harbor.registries == {}
    assert result["diff"]["after"]["url"] == "https://hub.docker.com"
    registry_id = harbor.add_registry("hub")
    failed, result = run(run_module, api, check_mode=True, diff=True, name="hub", description="new")
    assert not failed and result["changed"] and harbor.writes() == []
    assert harbor.registries[registry_id]["description"] == ""
    assert (result["diff"]["before"]["description"], result["diff"]["after"]["description"]) == ("", "new")


def test_unknown_type_refused_before_creating(run_module, harbor, api):
    failed, result = run(run_module, api, name="x", type="nexus", url="https://nexus.example.com")
    assert failed and "registry endpoint x: Harbor has no registry type 'nexus'" in result["msg"]
    assert "docker-hub" in result["msg"] and harbor.writes() == []


def test_type_and_url_needed_to_create(run_module, harbor, api):
    failed, result = run(run_module, api, name="x", url="https://r.example.com")
    assert failed and result["msg"] == "type is required to create registry endpoint x"


def test_type_cannot_change(run_module, harbor, api):
    harbor.add_registry("hub")
    failed, result = run(run_module, api, name="hub", type="harbor")
    assert failed and "is of type docker-hub, not harbor" in result["msg"] and harbor.writes() == []


def test_delete(run_module, harbor, api):
    registry_id = harbor.add_registry("hub")
    failed, result = run(run_module, api, check_mode=True, diff=True, name="hub", state="absent")
    assert not failed and result["changed"] and harbor.writes() == [] and registry_id in harbor.registries
    assert result["diff"]["before"]["name"] == "hub" and result["diff"]["after"] == {}
    failed, result = run(run_module, api, name="hub", state="absent")
    assert not failed and result["changed"] and result["registry"] is None and not harbor.registries
    failed, result = run(run_module, api, name="hub", state="absent")
    assert not failed and not result["changed"]


def test_delete_refused_while_a_proxy_cache_uses_it(run_module, harbor, api):
    registry_id = harbor.add_registry("hub")
    harbor.add_project("dockerhub", registry_id=registry_id)
    failed, result = run(run_module, api, name="hub", state="absent")
    assert failed and result["status"] == 412
    assert result["msg"].startswith("DELETE /api/v2.0/registries/%d (registry endpoint hub): HTTP 412 PRECONDITION: "
                                    "Can't delete the registry hub" % registry_id)


def test_duplicate_name_conflict_names_harbor_message(run_module, harbor, api):
    harbor.add_registry("hub")
    harbor.add_registry("quay", kind="quay", url="https://quay.io")
    failed, result = run(run_module, api, name="quay", type="quay", url="https://quay.io")
    assert not failed and not result["changed"]
    harbor.fail(409, method="PUT", body={"errors": [{"code": "CONFLICT", "message": "registry quay already exists"}]})
    failed, result = run(run_module, api, name="quay", description="x")
    assert failed and result["status"] == 409 and "HTTP 409 CONFLICT: registry quay already exists" in result["msg"]


def test_ping(run_module, harbor, api):
    failed, result = run(run_module, api, ping=True, **HUB)
    assert not failed and result["healthy"]
    assert harbor.sent("POST", "/registries/ping")[0]["body"] == {"id": harbor.registry("hub")["id"]}
    harbor.unhealthy["https://hub.docker.com"] = "the registry is unhealthy"
    failed, result = run(run_module, api, ping=True, **HUB)
    assert failed and not result["changed"]
    assert result["msg"] == "Harbor's ping of registry endpoint hub failed: the registry is unhealthy"


def test_ping_in_check_mode_carries_the_settings(run_module, harbor, api):
    failed, result = run(run_module, api, check_mode=True, ping=True, **HUB)
    assert not failed and result["changed"] and result["healthy"] and harbor.registries == {}
    ping = harbor.sent("POST", "/registries/ping")[0]["body"]
    assert ping == {"type": "docker-hub", "url": "https://hub.docker.com", "insecure": False,
                    "credential_type": "basic", "access_key": "me", "access_secret": SECRET}
    assert SECRET not in json.dumps(result)


def test_5xx_is_retried(run_module, harbor, api):
    harbor.fail(502, times=2, method="POST", path="/registries")
    failed, result = run(run_module, api, **HUB)
    assert not failed and result["changed"] and harbor.registry("hub")
    assert len(harbor.sent("POST", "/registries")) == 3
