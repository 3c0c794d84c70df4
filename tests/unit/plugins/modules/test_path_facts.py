"""path_facts against real files, links and directories made here."""

import os

from ansible_collections.harbor.deploy.plugins.modules import path_facts


def test_reports_each_kind_without_following_links(run_module, tmp_path):
    release = tmp_path / "releases" / "v2.15.2"
    release.mkdir(parents=True)
    (release / "harbor.yml").write_text("hostname: h\n")
    os.chmod(release / "harbor.yml", 0o600)
    os.symlink(str(release), str(tmp_path / "current"))
    os.symlink(str(tmp_path / "gone"), str(tmp_path / "dangling"))
    paths = [str(tmp_path / n) for n in ("current", "dangling", "missing", "releases")]
    paths.append(str(release / "harbor.yml"))
    paths.append(str(release / "harbor.yml" / "below-a-file"))
    failed, result = run_module(path_facts, {"paths": paths})
    assert not failed and result["changed"] is False
    facts = result["paths"]
    assert facts[paths[0]]["type"] == "link" and facts[paths[0]]["link_target"] == str(release)
    assert facts[paths[1]] == dict(facts[paths[1]], exists=True, type="link", link_target=str(tmp_path / "gone"))
    assert facts[paths[2]] == {"exists": False}
    assert facts[paths[3]]["type"] == "directory"
    yml = facts[paths[4]]
    st = os.stat(paths[4])
    assert (yml["type"], yml["mode"], yml["size"], yml["inode"], yml["mtime"], yml["ctime"]) == (
        "file", "0600", 12, st.st_ino, st.st_mtime, st.st_ctime)
    assert "content" not in yml
    assert facts[paths[5]] == {"exists": False}


def test_reads_text_and_parses_json(run_module, tmp_path):
    record = tmp_path / "x.verified.json"
    record.write_text('{"size": 3, "sha256": "ab"}')
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    text = tmp_path / "chrony.conf"
    text.write_bytes(b"server a\n\xff\n")
    args = {"paths": [str(record), str(broken), str(text), str(tmp_path / "no.json")],
            "read": [str(record), str(broken), str(text), str(tmp_path / "no.json")]}
    failed, result = run_module(path_facts, args, check_mode=True)
    assert not failed
    facts = result["paths"]
    assert facts[str(record)]["json"] == {"size": 3, "sha256": "ab"}
    assert facts[str(broken)]["json"] is None and facts[str(broken)]["json_error"]
    assert facts[str(text)]["content"] == "server a\n\ufffd\n" and "json" not in facts[str(text)]
    assert facts[str(tmp_path / "no.json")] == {"exists": False}


def test_refuses_large_files_and_bad_arguments(run_module, tmp_path):
    big = tmp_path / "big"
    big.write_bytes(b"x" * 11)
    failed, result = run_module(path_facts, {"paths": [str(big)], "read": [str(big)], "max_bytes": 10})
    assert failed and "11 bytes, more than max_bytes (10)" in result["msg"]
    failed, result = run_module(path_facts, {"paths": [str(big)], "max_bytes": 10})
    assert not failed and result["paths"][str(big)]["size"] == 11
    failed, result = run_module(path_facts, {"paths": [str(big)], "read": [str(tmp_path / "other")]})
    assert failed and "not in paths" in result["msg"] and str(tmp_path / "other") in result["msg"]
    failed, result = run_module(path_facts, {"paths": ["relative/path"]})
    assert failed and "must be absolute: relative/path" in result["msg"]
