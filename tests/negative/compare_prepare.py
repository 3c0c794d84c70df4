#!/usr/bin/env python3
"""Dev-only: run the negative set through Harbor's REAL prepare and compare verdicts.

Nothing here is shipped or run by `make test`. It needs a local git snapshot of
goharbor/harbor (HARBOR_GIT, default /work/.mirror/goharbor+harbor/repo) holding the
release tags, root (prepare chowns files to uid 10000), /usr/bin/openssl and
/usr/bin/htpasswd; without any of
them it prints why and exits 0 ("skipped").

For each release it extracts make/photon/prepare at that tag into a scratch
directory (never into the repository), points the container paths it uses (/data,
/config, /hostfs, /input, /compose_location, /usr/src/app) at a fresh scratch root
per run, and runs `main.py prepare --with-trivy` with this Python (which needs
jinja2, pyyaml and click). Every file a case names on the host (certificates, CA
bundles, the internal TLS directory) is created first, so only the rules that need
no host are compared: the host-side checks are the install role's.

Each case of cases.yml then gets two verdicts, ours and prepare's:
- an invalid case must be rejected by prepare too, unless it says `prepare: accepts`
  (a rule where we are stricter, for the reason VALIDATION.md gives);
- a valid case must be accepted by prepare.

    sudo .venv/bin/python tests/negative/compare_prepare.py            # whole set
    .venv/bin/python tests/negative/compare_prepare.py --release v2.15.2 --config harbor.yml
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
TOP = HERE.parents[1]
RELEASES = ("v2.12.4", "v2.13.2", "v2.14.4", "v2.15.2")
DEFAULT_GIT = "/work/.mirror/goharbor+harbor/repo"
CONTAINER_DIRS = ("/usr/src/app", "/hostfs", "/config", "/data", "/input", "/compose_location")
HOST_FILE_KEYS = ("certificate", "private_key", "ca_bundle", "rootCA", "ca_file", "keyfile")


def _ours():
    spec = importlib.util.spec_from_file_location("_harbor_yml", TOP / "plugins" / "module_utils" / "_harbor_yml.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def why_skip(git):
    if not (Path(git) / "HEAD").exists() and not (Path(git) / ".git").exists():
        return "no Harbor snapshot at %s (set HARBOR_GIT)" % git
    if os.geteuid() != 0:
        return "needs root: prepare chowns what it writes to uid 10000"
    for tool in ("/usr/bin/openssl", "/usr/bin/htpasswd"):
        if not os.access(tool, os.X_OK):
            return "needs %s (prepare calls it by that path; htpasswd is in apache2-utils)" % tool
    for module in ("jinja2", "click"):
        if importlib.util.find_spec(module) is None:
            return "needs the Python module %s" % module
    return None


# ---------------------------------------------------------------- a runnable prepare


def extract(git, tag, into):
    """make/photon/prepare of `tag`, its container paths turned into $HP_ROOT/..."""
    archive = subprocess.run(["git", "--git-dir", str(git), "archive", "--format=tar", tag, "make/photon/prepare"],
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    code = Path(into) / "make" / "photon" / "prepare"
    literal = re.compile(r"""(?<![\w.])(['"])(%s)(?=[/'"])""" % "|".join(re.escape(d) for d in CONTAINER_DIRS))
    for path in code.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        lines = path.read_text().splitlines(keepends=True)
        # the ca_bundle rule compares the user's path with '/data/': leave that comparison alone
        new = [line if "startswith(" in line else literal.sub(r"os.environ['HP_ROOT'] + \1\2", line) for line in lines]
        if new != lines:
            path.write_text("import os\n" + "".join(new))
    return code


def host_files(config):
    """Host paths the config names (certificates, CA bundles ...); prepare reads a relative one from /."""
    found = []
    if isinstance(config, dict):
        for key, value in config.items():
            if key in HOST_FILE_KEYS and isinstance(value, str) and value.strip("/"):
                found.append(value)
            else:
                found.extend(host_files(value))
    return found


def make_internal_tls(directory):
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca_crt = directory / "harbor_internal_ca.key", directory / "harbor_internal_ca.crt"
    run = lambda *args: subprocess.run(args, check=True, capture_output=True)  # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=ca",
        "-keyout", str(ca_key), "-out", str(ca_crt), "-addext", "subjectAltName=DNS:ca")
    for name in ("proxy", "core", "job_service", "registryctl", "registry", "portal", "trivy_adapter", "harbor_db"):
        key, crt, csr = directory / (name + ".key"), directory / (name + ".crt"), directory / (name + ".csr")
        ext = directory / (name + ".ext")
        ext.write_text("subjectAltName=DNS:%s\n" % name)
        run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + name, "-keyout", str(key), "-out", str(csr))
        run("openssl", "x509", "-req", "-days", "2", "-in", str(csr), "-CA", str(ca_crt), "-CAkey", str(ca_key),
            "-CAcreateserial", "-extfile", str(ext), "-out", str(crt))
        key.chmod(0o600)
        csr.unlink()
        ext.unlink()


def registry_keys(scratch):
    """The token-signing pair prepare would otherwise generate (RSA 4096) on every run."""
    keys = Path(scratch) / "registry-keys"
    if not keys.is_dir():
        keys.mkdir()
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=t",
                        "-keyout", str(keys / "private_key.pem"), "-out", str(keys / "root.crt")],
                       check=True, capture_output=True)
    return keys


def run_prepare(code, config, scratch):
    """(accepted, last lines of output) for one harbor.yml dict."""
    root = Path(tempfile.mkdtemp(dir=scratch))
    keys = registry_keys(scratch)
    for sub, name in (("core", "private_key.pem"), ("registry", "root.crt")):
        (root / "data/secret" / sub).mkdir(parents=True)
        shutil.copy(keys / name, root / "data/secret" / sub / name)
    for name in CONTAINER_DIRS:
        (root / name.lstrip("/")).mkdir(parents=True, exist_ok=True)
    (root / "usr/src/app/templates").symlink_to(code / "templates")
    hostfs = root / "hostfs"
    for path in host_files(config):
        target = hostfs / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("placeholder\n")
        target.chmod(0o644)
    tls_dir = config.get("internal_tls", {}).get("dir") if isinstance(config.get("internal_tls"), dict) else None
    if isinstance(tls_dir, str) and tls_dir.strip("/"):
        make_internal_tls(hostfs / tls_dir.lstrip("/"))
    (root / "input" / "harbor.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    run = subprocess.run([sys.executable, "main.py", "prepare", "--with-trivy"], cwd=code, capture_output=True,
                         text=True, env=dict(os.environ, HP_ROOT=str(root), PYTHONWARNINGS="ignore"), timeout=120,
                         check=False)
    shutil.rmtree(root, ignore_errors=True)
    tail = (run.stdout + run.stderr).strip().splitlines()[-3:]
    return run.returncode == 0, " | ".join(tail)


# ---------------------------------------------------------------- the comparison


def case_configs(cases, ours):
    for kind in ("negative_invalid", "negative_valid"):
        for case in cases[kind]:
            for release in case.get("releases", RELEASES):
                tmpl = ours.template_defaults((HERE / "templates" / release / "harbor.yml.tmpl").read_text())
                user = case.get("override") or {}
                merged = ours.deep_merge(ours.deep_merge(tmpl, cases["negative_base"]), user)
                merged = ours.remove_keys(merged, case.get("remove") or [])
                yield kind, case, release, merged


def compare(git, only=None):
    ours = _ours()
    cases = yaml.safe_load((HERE / "cases.yml").read_text())
    failures = 0
    with tempfile.TemporaryDirectory(prefix="harbor-prepare-") as scratch:
        codes = {release: extract(git, release, Path(scratch) / release) for release in RELEASES}
        for kind, case, release, merged in case_configs(cases, ours):
            if only and only not in case["name"]:
                continue
            accepted, tail = run_prepare(codes[release], merged, scratch)
            expected = True if kind == "negative_valid" else case.get("prepare") == "accepts"
            mark = "ok " if accepted == expected else "BAD"
            failures += accepted != expected
            print("%s %-8s %-9s prepare %-8s %s%s" % (mark, release, kind[9:], "accepts" if accepted else "rejects",
                                                      case["name"], "" if accepted == expected else "  <- " + tail))
    print("%d disagreement(s)" % failures)
    return 1 if failures else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--harbor-git", default=os.environ.get("HARBOR_GIT", DEFAULT_GIT))
    parser.add_argument("--release", choices=RELEASES, help="with --config: the release to run")
    parser.add_argument("--config", help="run one harbor.yml file through the real prepare and print the verdict")
    parser.add_argument("--only", help="only the cases whose name contains this text")
    args = parser.parse_args()
    git = Path(args.harbor_git)
    if (git / ".git").is_dir():
        git = git / ".git"
    skip = why_skip(git)
    if skip:
        print("skipped: " + skip)
        return 0
    if args.config:
        with tempfile.TemporaryDirectory(prefix="harbor-prepare-") as scratch:
            code = extract(git, args.release or RELEASES[-1], Path(scratch) / "code")
            accepted, tail = run_prepare(code, yaml.safe_load(Path(args.config).read_text()), scratch)
        print("accepted" if accepted else "rejected: " + tail)
        return 0 if accepted else 1
    return compare(git, args.only)


if __name__ == "__main__":
    sys.exit(main())
