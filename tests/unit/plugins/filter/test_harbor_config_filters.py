"""The config role's filters (plugins/filter/harbor_config.py): harbor_config_errors, harbor_config_new,
harbor_config_robot_report."""

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.harbor.deploy.plugins.filter.harbor_config import FilterModule

FILTERS = FilterModule().filters()
errors = FILTERS["harbor_config_errors"]

PERMISSIONS = {"system": [{"resource": "project", "action": "create"}, {"resource": "registry", "action": "list"}],
               "project": [{"resource": "repository", "action": a} for a in ("pull", "push", "list")]}


def good():
    return {
        "settings": {"project_creation_restriction": "adminonly"},
        "registries": [{"name": "hub", "type": "docker-hub", "url": "https://hub.docker.com",
                        "credential": {"access_key": "me", "access_secret": "s"}}],
        "projects": [{"name": "team-a", "public": False, "storage_limit": "1G"},
                     {"name": "hub-cache", "proxy_cache": "hub", "public": "yes"},
                     {"name": "old", "state": "absent"}],
        "retentions": [{"project": "team-a", "schedule": "0 0 3 * * *",
                        "rules": [{"template": "latestPushedK", "count": "5"}]}],
        "robots": [{"name": "puller", "level": "project", "project": "team-a", "duration": -1,
                    "permissions": [{"kind": "project", "namespace": "team-a",
                                     "access": [{"resource": "repository", "action": "pull"}]}]},
                   {"name": "ci", "permissions": [{"kind": "project", "namespace": "*",
                                                   "access": [{"resource": "repository", "action": "push"}]},
                                                  {"kind": "system", "namespace": "/",
                                                   "access": [{"resource": "project", "action": "create"}]}]}],
        "replications": [{"name": "mirror", "direction": "pull", "registry": "hub",
                          "filters": [{"type": "name", "value": "library/**"},
                                      {"type": "tag", "value": "v*", "decoration": "excludes"}],
                          "trigger": {"type": "scheduled", "cron": "0 0 * * * *"}}],
        "gc": {"schedule": "Custom", "cron": "0 30 2 * * 6", "workers": 2, "delete_untagged": True},
        "prune": ["robots"],
    }


def test_the_filters_are_there():
    assert set(FILTERS) == {"harbor_config_errors", "harbor_config_new", "harbor_config_robot_report"}


def test_a_good_declaration_has_no_error():
    assert errors(good()) == []
    assert errors(good(), permissions=PERMISSIONS) == []
    assert errors({}) == []


@pytest.mark.parametrize("change, expected", [
    (lambda c: c["replications"][0].update(registry="dr"),
     "config_replications[0] (name mirror).registry: 'dr' is not declared in config_registries"),
    (lambda c: c["projects"][1].update(proxy_cache="gone"),
     "config_projects[1] (name hub-cache).proxy_cache: 'gone' is not declared in config_registries"),
    (lambda c: c["projects"][1].update(proxy_cache="x") or c["registries"].append({"name": "x", "state": "absent"}),
     "config_projects[1] (name hub-cache).proxy_cache: 'x' is declared with state absent in config_registries"),
    (lambda c: c["robots"][0].update(project="old"),
     "config_robots[0] (name puller).project: 'old' is declared with state absent in config_projects"),
    (lambda c: c["retentions"][0].update(project="nope"),
     "config_retentions[0] (project nope).project: 'nope' is not declared in config_projects"),
    (lambda c: c["projects"][0].update(pubilc=True),
     "config_projects[0] (name team-a): unknown key 'pubilc'"),
    (lambda c: c["projects"][0].update(public="maybe"),
     "config_projects[0] (name team-a).public: must be a boolean, not 'maybe'"),
    (lambda c: c["projects"].append({"name": "team-a"}),
     "config_projects[3] (name team-a): name 'team-a' is declared twice (also config_projects[0])"),
    (lambda c: c["projects"].append({"public": True}), "config_projects[3]: name is required"),
    (lambda c: c["projects"].append({"name": "Team_A"}), "config_projects[3] (name Team_A).name: Harbor's project"),
    (lambda c: c["projects"][0].update(state="gone"),
     "config_projects[0] (name team-a).state: 'gone' is not one of present, absent"),
    (lambda c: c["robots"][0].update(level="project", project=None),
     "config_robots[0] (name puller).project: is required with level project"),
    (lambda c: c["robots"][1]["permissions"][0].pop("namespace"),
     "config_robots[1] (name ci).permissions[0].namespace: is required for project permissions of a system robot"),
    (lambda c: c["robots"][0]["permissions"][0]["access"][0].pop("action"),
     "config_robots[0] (name puller).permissions[0].access[0].action: is required"),
    (lambda c: c["robots"][0].update(permissions=[]), "config_robots[0] (name puller).permissions: is required"),
    (lambda c: c["replications"][0]["trigger"].pop("cron"),
     "config_replications[0] (name mirror).trigger.cron: is required with type scheduled"),
    (lambda c: c["replications"][0]["trigger"].update(cron="0 * * * *"),
     "config_replications[0] (name mirror).trigger.cron: '0 * * * *' is not a cron expression of 6 fields"),
    (lambda c: c["replications"][0]["trigger"].update(cron="0 * * * * *"),
     "config_replications[0] (name mirror).trigger.cron: Harbor runs replications at most once a minute"),
    (lambda c: c["replications"][0]["filters"][0].update(type="glob"),
     "config_replications[0] (name mirror).filters[0].type: 'glob' is not one of name, tag, label, resource"),
    (lambda c: c["replications"][0].update(direction="both"),
     "config_replications[0] (name mirror).direction: 'both' is not one of push, pull"),
    (lambda c: c["retentions"][0]["rules"][0].update(template="keepSome"),
     "config_retentions[0] (project team-a).rules[0].template: 'keepSome' is not one of"),
    (lambda c: c["retentions"][0]["rules"][0].pop("count"),
     "config_retentions[0] (project team-a).rules[0].count: is required by template latestPushedK"),
    (lambda c: c["retentions"][0]["rules"][0].update(days=3),
     "config_retentions[0] (project team-a).rules[0].days: template latestPushedK takes count"),
    (lambda c: c["retentions"][0].update(schedule="5 0 3 * * *"),
     "config_retentions[0] (project team-a).schedule: Harbor needs the seconds field"),
    (lambda c: c["retentions"][0].update(rules=[{"template": "always"}] * 16),
     "config_retentions[0] (project team-a).rules: 16 rules, Harbor takes 15 at most"),
    (lambda c: c["gc"].update(workers=9), "config_gc.workers: 9 is not between 1 and 5"),
    (lambda c: c["gc"].update(schedule="Daily"), "config_gc.cron: only with schedule Custom"),
    (lambda c: c["gc"].update(schedule="Monthly"), "config_gc.schedule: 'Monthly' is not one of"),
    (lambda c: c.update(prune=["users"]), "config_prune[0]: 'users' is not one of"),
    (lambda c: c.update(projects={"name": "x"}), "config_projects: must be a list of mappings, not dict"),
    (lambda c: c.update(settings=["a"]), "config_settings: must be a mapping"),
    (lambda c: c["registries"][0]["credential"].pop("access_key"),
     "config_registries[0] (name hub).credential.access_key: is required with a credential"),
])
def test_each_problem_names_the_item_and_the_key(change, expected):
    config = good()
    change(config)
    found = errors(config)
    assert any(e.startswith(expected) for e in found), found


def test_an_item_declared_absent_is_not_checked_for_references():
    config = good()
    config["replications"].append({"name": "gone", "state": "absent"})
    assert errors(config) == []


@pytest.mark.parametrize("access, expected", [
    ({"resource": "repository", "action": "pul"},
     "config_robots[0] (name puller).permissions[0].access[0]: repository pul is not a project permission of this "
     "Harbor: the project actions of repository are list, pull, push"),
    ({"resource": "repos", "action": "pull"}, "Harbor has no project resource 'repos' (it has repository)"),
])
def test_robot_permissions_are_checked_against_harbors_list(access, expected):
    config = good()
    config["robots"][0]["permissions"][0]["access"] = [access]
    found = errors(config, permissions=PERMISSIONS)
    assert any(expected in e for e in found), found
    assert errors(config) == []  # without Harbor's list, names are not judged


def test_bad_arguments_raise():
    with pytest.raises(AnsibleFilterError, match="expects a mapping"):
        errors([])
    with pytest.raises(AnsibleFilterError, match="permissions must be"):
        errors({}, permissions=[])


def test_new_items_are_the_changed_ones_that_do_not_exist_yet():
    registered = {"results": [
        {"item": {"name": "a"}, "changed": True, "registry": None},
        {"item": {"name": "b"}, "changed": True, "registry": {"id": 2}},
        {"item": {"name": "c"}, "changed": False, "registry": {"id": 3}},
        {"item": {"name": "d"}, "skipped": True, "changed": False},
    ]}
    assert FILTERS["harbor_config_new"](registered, "registry") == ["a"]
    assert FILTERS["harbor_config_new"]({}, "registry") == []


def test_the_robot_report_never_holds_the_secret():
    registered = {"results": [
        {"item": {"name": "a", "secret_file": "/s/a"}, "changed": True, "secret": "S3CRET", "secret_created": True},
        {"item": {"name": "b"}, "changed": True, "secret_created": True},
        {"item": {"name": "c"}, "changed": False},
        {"item": {"name": "d"}, "changed": True, "secret_created": False},
        {"item": {"name": "e"}, "skipped": True},
    ]}
    lines = FILTERS["harbor_config_robot_report"](registered)
    assert lines == ["a: changed, new secret for /s/a on the controller", "b: changed, its new secret not kept "
                     "(no secret_file)", "c: as declared", "d: changed",
                     "e: not looked at (check mode: its project is created by this run)"]
    assert "S3CRET" not in " ".join(lines)
    assert FILTERS["harbor_config_robot_report"](registered, check=True)[0] == (
        "a: would change, a new secret for /s/a on the controller")


@pytest.mark.parametrize("credential, says", [
    ({"access_key": "me", "access_secret": 12345678}, "credential.access_secret: must be a string, not a int (value not shown)"),
    ("me:12345678", "credential: must be a mapping, not a str (value not shown)"),
])
def test_a_secret_of_the_wrong_type_is_named_but_not_shown(credential, says):
    config = good()
    config["registries"][0]["credential"] = credential
    found = errors(config)
    assert any(says in e for e in found), found
    assert "12345678" not in " ".join(found)
