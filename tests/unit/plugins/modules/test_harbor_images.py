"""harbor_images against a real docker-save-shaped tar.gz and a fake docker CLI on PATH."""

import io
import json
import os
import sys
import tarfile
import textwrap
import time

import pytest

from ansible_collections.harbor.deploy.plugins.module_utils import _image_archive as ia
from ansible_collections.harbor.deploy.plugins.modules import harbor_images

TAGS = ["goharbor/harbor-core:v2.15.2", "goharbor/harbor-db:v2.15.2", "goharbor/nginx-photon:v2.15.2"]

# A docker CLI that keeps its images in $FAKE_DOCKER_DIR/images (one tag a line), logs every
# call to $FAKE_DOCKER_DIR/calls, and loads by reading manifest.json from the archive.
FAKE_DOCKER = textwrap.dedent("""\
    #!{python}
    import json, os, sys, tarfile
    state = os.environ["FAKE_DOCKER_DIR"]
    images = os.path.join(state, "images")
    mode = open(os.path.join(state, "mode")).read().strip() if os.path.exists(os.path.join(state, "mode")) else ""
    with open(os.path.join(state, "calls"), "a") as log:
        log.write(" ".join(sys.argv[1:]) + "\\n")
    have = open(images).read().split() if os.path.exists(images) else []
    if sys.argv[1:3] == ["image", "ls"]:
        if mode == "ls-fails":
            sys.exit("Cannot connect to the Docker daemon")
        print("\\n".join(have + ["<none>:<none>"]))
    elif sys.argv[1] == "load":
        if mode == "load-fails":
            sys.exit("Error processing tar file(exit status 1): unexpected EOF")
        with tarfile.open(sys.argv[3]) as tar:
            manifest = json.load(tar.extractfile("manifest.json"))
        tags = [t for entry in manifest for t in entry.get("RepoTags") or []]
        if mode != "load-forgets":
            with open(images, "w") as out:
                out.write("\\n".join(sorted(set(have + tags))) + "\\n")
        if mode == "quiet-load":
            print("Loaded image(s): " + ",".join(tags))
        else:
            for tag in tags:
                print("Loaded image: " + tag)
    else:
        sys.exit("unexpected call: %s" % sys.argv)
""")


def make_archive(path, tags, manifest_last=True, mode="w:gz", extra_entries=()):
    """A docker-save-shaped archive: layer blobs first, then manifest.json and repositories."""
    manifest = [{"Config": "%d.json" % i, "RepoTags": [tag], "Layers": ["%d/layer.tar" % i]}
                for i, tag in enumerate(tags)]
    manifest += list(extra_entries)
    entries = [("%d/layer.tar" % i, os.urandom(2048)) for i in range(len(tags))]
    entries += [("%d.json" % i, b"{}") for i in range(len(tags))]
    tail = [("manifest.json", json.dumps(manifest).encode()), ("repositories", b"{}")]
    entries = entries + tail if manifest_last else tail + entries
    with tarfile.open(path, mode) as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return str(path)


@pytest.fixture
def docker(tmp_path, monkeypatch):
    """The fake docker: returns a helper to preset images / mode and read the calls made."""
    state = tmp_path / "docker"
    bindir = tmp_path / "bin"
    state.mkdir()
    bindir.mkdir()
    cli = bindir / "docker"
    cli.write_text(FAKE_DOCKER.format(python=sys.executable))
    cli.chmod(0o755)
    monkeypatch.setenv("FAKE_DOCKER_DIR", str(state))
    monkeypatch.setenv("PATH", "%s%s%s" % (bindir, os.pathsep, os.environ["PATH"]))

    class Fake:
        path = str(cli)

        @staticmethod
        def have(*tags):
            (state / "images").write_text("".join(t + "\n" for t in tags))

        @staticmethod
        def mode(name):
            (state / "mode").write_text(name)

        @staticmethod
        def calls():
            log = state / "calls"
            return [line.split()[0] if line.startswith("load") else "ls"
                    for line in log.read_text().splitlines()] if log.exists() else []

        @staticmethod
        def images():
            return (state / "images").read_text().split()

    return Fake


@pytest.fixture
def archive(tmp_path):
    return make_archive(tmp_path / "harbor.v2.15.2.tar.gz", TAGS)


# ---------------------------------------------------------------- the module


def test_first_run_loads_and_caches(run_module, docker, archive):
    failed, result = run_module(harbor_images, {"archive": archive})
    assert not failed
    assert result["changed"] and result["loaded"] and not result["from_cache"]
    assert result["images"] == TAGS and result["missing"] == TAGS
    assert docker.calls() == ["ls", "load", "ls"]
    assert sorted(docker.images()) == sorted(TAGS)
    assert json.load(open(ia.cache_path(archive)))["images"] == TAGS


def test_second_run_is_instant_and_unchanged(run_module, docker, archive):
    run_module(harbor_images, {"archive": archive})
    failed, result = run_module(harbor_images, {"archive": archive})
    assert not failed and not result["changed"] and not result["loaded"]
    assert result["from_cache"] and result["missing"] == []
    assert docker.calls() == ["ls", "load", "ls", "ls"]


def test_loads_when_one_tag_is_missing(run_module, docker, archive):
    run_module(harbor_images, {"archive": archive})
    docker.have(*TAGS[:2])
    failed, result = run_module(harbor_images, {"archive": archive})
    assert not failed and result["changed"] and result["loaded"]
    assert result["missing"] == [TAGS[2]]
    assert docker.calls()[-3:] == ["ls", "load", "ls"]


def test_cold_cache_with_every_image_present_loads_but_changes_nothing(run_module, docker, archive):
    docker.have(*TAGS)
    failed, result = run_module(harbor_images, {"archive": archive})
    assert not failed and not result["changed"] and result["loaded"] and result["missing"] == []


@pytest.mark.parametrize("check_mode, state", [(True, "present"), (False, "checked"), (True, "checked")])
def test_report_only(run_module, docker, archive, check_mode, state):
    docker.have(TAGS[0])
    failed, result = run_module(harbor_images, {"archive": archive, "state": state}, check_mode=check_mode)
    assert not failed and not result["loaded"]
    assert result["changed"] is (check_mode and state == "present")
    assert result["missing"] == TAGS[1:]
    assert docker.calls() == ["ls"]
    assert os.path.exists(ia.cache_path(archive)) is (not check_mode)


def test_check_mode_with_nothing_missing_reports_no_change(run_module, docker, archive):
    docker.have(*TAGS)
    failed, result = run_module(harbor_images, {"archive": archive}, check_mode=True)
    assert not failed and not result["changed"] and result["missing"] == []


def test_changed_archive_invalidates_the_cache(run_module, docker, tmp_path, archive):
    run_module(harbor_images, {"archive": archive})
    new_tags = [t.replace("v2.15.2", "v2.15.3") for t in TAGS]
    make_archive(tmp_path / "harbor.v2.15.2.tar.gz", new_tags)
    os.utime(archive, ns=(time.time_ns(), time.time_ns() + 10**9))
    failed, result = run_module(harbor_images, {"archive": archive})
    assert not failed and result["changed"] and result["images"] == new_tags and not result["from_cache"]


def test_without_cache_reads_the_archive_and_loads_with_dash_i(run_module, docker, archive):
    docker.have(TAGS[1])
    failed, result = run_module(harbor_images, {"archive": archive, "cache": False})
    assert not failed and result["changed"] and result["missing"] == [TAGS[0], TAGS[2]]
    assert not os.path.exists(ia.cache_path(archive))
    failed, result = run_module(harbor_images, {"archive": archive, "cache": False})
    assert not failed and not result["changed"] and not result["from_cache"]


def test_load_output_without_tags_falls_back_to_the_manifest(run_module, docker, archive):
    docker.mode("quiet-load")
    failed, result = run_module(harbor_images, {"archive": archive})
    assert not failed and result["images"] == TAGS


def test_absolute_docker_cli(run_module, docker, archive, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    failed, result = run_module(harbor_images, {"archive": archive, "docker_cli": docker.path})
    assert not failed and result["loaded"]


@pytest.mark.parametrize("mode, fragment", [
    ("load-fails", "unexpected EOF"),
    ("load-forgets", "still missing: " + ", ".join(TAGS)),
    ("ls-fails", "Cannot connect to the Docker daemon"),
])
def test_engine_failures(run_module, docker, archive, mode, fragment):
    docker.mode(mode)
    failed, result = run_module(harbor_images, {"archive": archive})
    assert failed and fragment in result["msg"]


@pytest.mark.parametrize("args, fragment", [
    ({"archive": "/nonexistent/harbor.tar.gz"}, "does not exist"),
    ({"docker_cli": "/nonexistent/docker"}, "not an executable"),
    ({"docker_cli": "no-such-docker-cli"}, "no-such-docker-cli"),
])
def test_bad_parameters(run_module, docker, archive, args, fragment):
    failed, result = run_module(harbor_images, dict({"archive": archive}, **args))
    assert failed and fragment in result["msg"]


def test_not_a_docker_save_archive(run_module, docker, tmp_path):
    path = tmp_path / "other.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        tar.addfile(tarfile.TarInfo("README"), io.BytesIO(b""))
    failed, result = run_module(harbor_images, {"archive": str(path)}, check_mode=True)
    assert failed and "no manifest.json" in result["msg"]


def test_unwritable_cache_warns(run_module, docker, archive):
    os.mkdir(ia.cache_path(archive))  # a directory where the cache file should go
    failed, result = run_module(harbor_images, {"archive": archive, "state": "checked"})
    assert not failed and result["missing"] == TAGS
    assert "not cached" in json.dumps(result["warnings"])


# ---------------------------------------------------------------- module_utils/_image_archive


@pytest.mark.parametrize("mode", ["w:gz", "w", "w:xz", "w:bz2"])
@pytest.mark.parametrize("manifest_last", [True, False])
def test_read_manifest_tags(tmp_path, mode, manifest_last):
    path = make_archive(tmp_path / "a.tar", TAGS, manifest_last=manifest_last, mode=mode)
    assert ia.read_manifest_tags(path) == TAGS


def test_read_manifest_tags_dedups_and_skips_untagged(tmp_path):
    extra = [{"Config": "x.json", "RepoTags": None, "Layers": []}, {"Config": "y.json", "RepoTags": [TAGS[0]]}]
    path = make_archive(tmp_path / "a.tar.gz", TAGS, extra_entries=extra)
    assert ia.read_manifest_tags(path) == TAGS


@pytest.mark.parametrize("content, fragment", [
    (b"not a tar at all", "cannot read"),
    (None, "no tagged image"),
])
def test_read_manifest_tags_errors(tmp_path, content, fragment):
    path = tmp_path / "bad.tar.gz"
    if content is None:
        make_archive(path, [])
    else:
        path.write_bytes(content)
    with pytest.raises(ia.ArchiveError, match=fragment):
        ia.read_manifest_tags(str(path))


def test_cache_round_trip_and_stamp(tmp_path, archive):
    assert ia.load_cached_tags(archive) is None
    assert ia.save_cached_tags(archive, TAGS) is None
    assert ia.load_cached_tags(archive) == TAGS
    with open(archive, "ab") as handle:
        handle.write(b"\0")  # size changes: the cache no longer applies
    assert ia.load_cached_tags(archive) is None


@pytest.mark.parametrize("content", ["not json", "[]", '{"stamp": {}, "images": ["a"]}'])
def test_cache_garbage_is_ignored(archive, content):
    with open(ia.cache_path(archive), "w") as handle:
        handle.write(content)
    assert ia.load_cached_tags(archive) is None


@pytest.mark.parametrize("output, expected", [
    ("Loaded image: a:1\nLoaded image: b:2\n", ["a:1", "b:2"]),
    ("Loaded image ID: sha256:abc\nLoaded image: a:1\nLoaded image: a:1", ["a:1"]),
    ("Loaded image(s): a:1,b:2", []),
    ("", []),
])
def test_loaded_tags(output, expected):
    assert ia.loaded_tags(output) == expected


@pytest.mark.parametrize("tag, short", [
    ("docker.io/library/nginx:1", "nginx:1"),
    ("library/nginx:1", "nginx:1"),
    ("docker.io/goharbor/harbor-core:v2.15.2", "goharbor/harbor-core:v2.15.2"),
    ("goharbor/harbor-core:v2.15.2", "goharbor/harbor-core:v2.15.2"),
    ("registry.example.com:5000/library/x:1", "registry.example.com:5000/library/x:1"),
])
def test_normalize(tag, short):
    assert ia.normalize(tag) == short


def test_missing_tags_compares_short_forms():
    assert ia.missing_tags(["docker.io/library/nginx:1", "redis:7"], ["nginx:1"]) == ["redis:7"]
