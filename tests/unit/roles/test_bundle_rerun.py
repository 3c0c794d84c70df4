"""The bundle role on localhost (bundle_source: controller, a small installer): a converged rerun reads
the controller once (the tarball's size and mtime) and the host once (harbor.deploy.path_facts: the
directories, the tarball, its record, the unpack marker, the image archive) and hashes nothing; a
tarball rewritten in place with its mtime put back is caught, copied again and hashed; bundle_reverify
hashes and changes nothing; a directory's drift and a lost unpack marker are repaired; a step run alone
(--tags) reads what it needs itself; check mode on a new host changes nothing. A fake docker answers
harbor_images (nothing reaches a real Docker).

One ansible-playbook run per step (a few seconds each). Writes files owned by root: run as root.
"""

import hashlib
import io
import json
import os
import stat
import tarfile

import pytest

from _ansible_run import ansible_playbook
from _bundle_docker_output import ran, recap, rewrite_keeping_mtime, skipped

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="writes root-owned files")

PLAY = """\
- name: The bundle role
  hosts: all
  gather_facts: false
  environment:
    # harbor_images finds the fake docker first: never a real Docker
    PATH: "{{ fake_bin }}:/usr/bin:/bin"
  roles:
    - role: harbor.deploy.bundle
"""

FAKE_DOCKER = """\
#!/bin/sh
state="$(dirname "$0")/images"
case "$1" in
  image) cat "$state" 2>/dev/null; exit 0 ;;
  load) echo "Loaded image: goharbor/harbor-core:v2.15.2"; echo goharbor/harbor-core:v2.15.2 > "$state" ;;
  *) echo "fake docker: $*" >&2; exit 1 ;;
esac
"""

HASH = "Hash the installer on the host"
# What a converged rerun runs: two round trips (the controller's stat, the host's path_facts) and
# harbor_images, which asks the engine for its tags.
CONVERGED = [
    "Validating arguments against arg spec 'main' - Get Harbor's installer onto the host, verified and unpacked,"
    " images loaded when missing.",
    "Check the cross-field rules of the bundle variables",
    "Read the size and mtime of the controller's tarball",
    "Read the tarball, its record, the release directory and the image archive on the host",
    "Decide whether the record still vouches for the tarball",
    "Publish the release directory for the install role",
    "Load the bundle's images when some tags are missing",
]


def _member(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    top = tmp_path_factory.mktemp("bundle")
    (top / "play.yml").write_text(PLAY)
    ctl = top / "ctl"
    ctl.mkdir()
    images = io.BytesIO()
    with tarfile.open(fileobj=images, mode="w:gz") as tar:
        manifest = [{"Config": "c.json", "RepoTags": ["goharbor/harbor-core:v2.15.2"], "Layers": []}]
        _member(tar, "manifest.json", json.dumps(manifest).encode())
    tarball = ctl / "harbor-offline-installer-v2.15.2.tgz"
    with tarfile.open(tarball, "w:gz") as tar:
        _member(tar, "harbor/harbor.yml.tmpl", b"hostname: reg.example.org\n")
        _member(tar, "harbor/harbor.v2.15.2.tar.gz", images.getvalue())
    (ctl / "md5sum").write_text("%s  %s\n" % (hashlib.md5(tarball.read_bytes()).hexdigest(), tarball.name))
    fake = top / "bin"
    fake.mkdir()
    (fake / "docker").write_text(FAKE_DOCKER)
    (fake / "docker").chmod(0o755)
    return top


def values(site, root="opt", **more):
    return dict({"bundle_root": str(site / root), "bundle_source": "controller", "fake_bin": str(site / "bin"),
                 "bundle_src": str(site / "ctl" / "harbor-offline-installer-v2.15.2.tgz")}, **more)


def play(site, *extra, **more):
    rc, out = ansible_playbook(site, values(site, **more), *extra)
    assert rc == 0, out
    return out


@pytest.fixture(scope="module")
def converged(site):
    out = play(site)
    assert recap(out)[1] > 0 and not skipped(out, "bundle", HASH), out
    return site


def tarball(site):
    return site / "opt" / "dist" / "harbor-offline-installer-v2.15.2.tgz"


def test_a_converged_rerun_reads_the_host_once_and_hashes_nothing(converged):
    out = play(converged)
    assert recap(out)[1:] == (0, 0), out
    assert ran(out, "bundle") == CONVERGED, out
    assert skipped(out, "bundle", HASH), out


def test_a_tarball_rewritten_in_place_with_its_mtime_put_back_is_caught(converged):
    path = tarball(converged)
    good = rewrite_keeping_mtime(path)
    out = play(converged)
    assert recap(out)[1] > 0 and not skipped(out, "bundle", HASH), out
    assert hashlib.sha256(path.read_bytes()).hexdigest() == good
    record = json.loads((path.parent / (path.name + ".verified.json")).read_text())
    assert record["sha256"] == good and record["inode"] == os.stat(path).st_ino


def test_bundle_reverify_hashes_and_changes_nothing(converged):
    out = play(converged, bundle_reverify=True)
    assert recap(out)[1] == 0 and not skipped(out, "bundle", HASH), out


def test_drift_is_repaired(converged):
    dist = converged / "opt" / "dist"
    dist.chmod(0o700)
    (converged / "opt" / "v2.15.2" / "harbor" / ".unpacked").unlink()
    out = play(converged)
    assert stat.S_IMODE(dist.stat().st_mode) == 0o755
    assert "Unpack the installer into the release directory" in ran(out, "bundle"), out
    assert (converged / "opt" / "v2.15.2" / "harbor" / ".unpacked").read_text().strip() == \
        hashlib.sha256(tarball(converged).read_bytes()).hexdigest()


@pytest.mark.parametrize("tag", ["bundle_unpack", "bundle_images"])
def test_a_step_run_alone_reads_what_it_needs(converged, tag):
    out = play(converged, "--tags", tag)
    assert recap(out)[1:] == (0, 0), out
    assert set(ran(out, "bundle")) & {"Read the release directory and the unpack marker when the fetch step did not run",
                                      "Find the image archive of the release"}, out


def test_check_mode_on_a_new_host_changes_nothing(site):
    out = play(site, "--check", root="fresh")
    assert recap(out)[2] == 0, out
    assert not (site / "fresh").exists()
