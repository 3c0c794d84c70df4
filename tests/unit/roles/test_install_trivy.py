"""Offline Trivy in the install role, on localhost: the refusals of trivy_check.yml (each names
its variable) and the DB copy of trivy_db.yml (copied when metadata.json or the DB size changed,
nothing on a rerun, check mode writes nothing).

One ansible-playbook run per case (a few seconds each).
"""

import os

import pytest

from _ansible_run import ansible_playbook

PLAY = """\
- name: Offline Trivy
  hosts: all
  gather_facts: false
  tasks:
    - name: The role's tasks file
      ansible.builtin.include_role:
        name: harbor.deploy.install
        tasks_from: "{{ tasks_file }}"
"""

META = '{"Version":2,"NextUpdate":"2026-11-30T06:00:00Z","UpdatedAt":"2026-11-30T00:00:00.1Z","DownloadedAt":"0001-01-01T00:00:00Z"}'


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    top = tmp_path_factory.mktemp("trivy")
    (top / "play.yml").write_text(PLAY)
    for name, db in (("db", "trivy.db"), ("java", "trivy-java.db")):
        (top / name).mkdir()
        (top / name / db).write_text("fixture " + db + "\n")
        (top / name / "metadata.json").write_text(META + "\n")
    (top / "nometa").mkdir()
    (top / "nometa" / "trivy.db").write_text("x")
    (top / "badmeta").mkdir()
    (top / "badmeta" / "trivy.db").write_text("x")
    (top / "badmeta" / "metadata.json").write_text("not json")
    return top


def run(site, tasks_file, values, *extra):
    values = dict({"install_version": "v2.15.2", "install_with_trivy": True, "tasks_file": tasks_file}, **values)
    return ansible_playbook(site, values, *extra)


@pytest.mark.parametrize("values, message", [
    ({"install_with_trivy": False, "install_trivy_db_dir": "@db"}, "need install_with_trivy: true"),
    ({"install_trivy_db_dir": "@db", "install_trivy_db_repository": "mirror.example/trivy-db"}, "exclude each other"),
    ({"install_trivy_java_db_dir": "@java"}, "install_trivy_java_db_dir needs install_trivy_db_dir"),
    ({"install_version": "v2.14.4", "install_trivy_db_repository": "mirror.example/trivy-db"}, "v2.14.4 ignores them"),
    ({"install_trivy_db_repository": "mirror.example/trivy-db", "install_config": {"trivy": {"skip_update": True}}},
     "install_config.trivy.skip_update is true"),
    ({"install_config": {"trivy": {"offline_scan": True}}}, "install_config.trivy.offline_scan / skip_update is true"),
    ({"install_config": {"trivy": {"skip_update": "true"}}}, "set install_trivy_db_dir"),
    ({"install_trivy_db_dir": "relative/db"}, "not an absolute path"),
    ({"install_trivy_db_dir": "@nometa"}, "no metadata.json"),
    ({"install_trivy_db_dir": "@badmeta"}, "not a JSON object with UpdatedAt"),
    ({"install_trivy_db_dir": "@java"}, "no trivy.db"),
    ({"install_trivy_db_dir": "@db", "install_trivy_java_db_dir": "@db"}, "no trivy-java.db"),
    ({"install_trivy_db_dir": "@db", "install_config": {"trivy": {"skip_update": False, "offline_scan": "0"}}},
     "install_config.trivy.skip_update: false, install_config.trivy.offline_scan: 0"),
])
def test_refused(site, values, message):
    values = {k: (str(site / v[1:]) if isinstance(v, str) and v.startswith("@") else v) for k, v in values.items()}
    rc, out = run(site, "trivy_check.yml", values)
    assert rc != 0, out
    assert message in out, out


@pytest.mark.parametrize("values", [
    {},
    {"install_with_trivy": False},
    {"install_trivy_db_dir": "@db", "install_trivy_java_db_dir": "@java/"},
    {"install_trivy_db_dir": "@db", "install_config": {"trivy": {"skip_update": True, "offline_scan": "true"}}},
    {"install_trivy_db_repository": "mirror.example/trivy-db", "install_config": {"trivy": {"offline_scan": True}}},
    {"install_config": {"trivy": {"db_repository": "mirror.example/trivy-db", "offline_scan": True}}},
    {"install_with_trivy": False, "install_config": {"trivy": {"offline_scan": True}}},
])
def test_accepted(site, values):
    values = {k: (str(site / v[1:]) if isinstance(v, str) and v.startswith("@") else v) for k, v in values.items()}
    rc, out = run(site, "trivy_check.yml", values)
    assert rc == 0, out


def recap_changed(out):
    line = [x for x in out.splitlines() if x.startswith("localhost")][-1]
    return int(line.split("changed=")[1].split()[0])


@pytest.mark.skipif(os.geteuid() != 0, reason="chowns to 10000")
def test_copy(site):
    data = site / "data"
    values = {"install_data_volume": str(data), "install_trivy_db_dir": str(site / "db"),
              "install_trivy_java_db_dir": str(site / "java")}
    cache = data / "trivy-adapter" / "trivy"
    rc, out = run(site, "trivy_db.yml", values, "--check")
    assert rc == 0 and recap_changed(out) > 0, out
    assert not (cache / "db").exists()
    rc, out = run(site, "trivy_db.yml", values)
    assert rc == 0 and recap_changed(out) > 0, out
    for path in ("", "/db", "/java-db", "/db/trivy.db", "/db/metadata.json", "/java-db/trivy-java.db"):
        st = os.stat(str(cache) + path)
        assert (st.st_uid, st.st_gid) == (10000, 10000), path
        assert st.st_mode & 0o777 == (0o644 if "." in path.rsplit("/", 1)[-1] else 0o755), path
    assert (cache / "db" / "metadata.json").read_text() == META + "\n"
    rc, out = run(site, "trivy_db.yml", values)
    assert rc == 0 and recap_changed(out) == 0, out
    # a new DB: same size, new metadata.json; check mode first
    (site / "db" / "trivy.db").write_text("fixture TRIVY.db\n")
    (site / "db" / "metadata.json").write_text(META.replace("2026-11-30T00", "2026-12-01T00") + "\n")
    rc, out = run(site, "trivy_db.yml", values, "--check")
    assert rc == 0 and recap_changed(out) == 2, out
    assert (cache / "db" / "trivy.db").read_text() == "fixture trivy.db\n"
    rc, out = run(site, "trivy_db.yml", values)
    assert rc == 0 and recap_changed(out) == 2, out
    assert (cache / "db" / "trivy.db").read_text() == "fixture TRIVY.db\n"
    # the same metadata.json and size: the DB is not even compared (no hashing)
    (site / "db" / "trivy.db").write_text("fixture trivy.DB\n")
    rc, out = run(site, "trivy_db.yml", values)
    assert rc == 0 and recap_changed(out) == 0, out
    assert (cache / "db" / "trivy.db").read_text() == "fixture TRIVY.db\n"
