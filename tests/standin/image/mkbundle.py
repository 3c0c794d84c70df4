#!/usr/bin/env python3
"""Package the stand-in Harbor installers.

Writes, into OUT_DIR, for each release: harbor-offline-installer-vX.Y.Z.tgz
and harbor-online-installer-vX.Y.Z.tgz (each unpacking to harbor/), a
<name>.sha256 beside each, and an md5sum file listing them all.

The offline bundle's harbor.vX.Y.Z.tar.gz is a `docker save` archive written
directly (no engine needed): every goharbor/<component>:vX.Y.Z image is the
same two layers (the Debian root filesystem and the stand-in's code) under its
own config (command, user, healthcheck), so the layers are stored once. The
gzip stream is a concatenation of members; the big rootfs member is cached
beside the rootfs tarball, so only the small parts are compressed per build.

usage: mkbundle.py ROOTFS_TAR APP_DIR BUNDLE_DIR REFERENCE_DIR OUT_DIR
       mkbundle.py --releases      (one "TAG TEMPLATE_TAG" line per release)
"""
import gzip
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
import time

MTIME = 1704067200  # 2024-01-01T00:00:00Z: same inputs, same bytes
CREATED = "2024-01-01T00:00:00Z"

RELEASES = {
    # tag: (harbor.yml _version, redis image, database schema version, reference harbor.yml.tmpl from, fault)
    "v2.14.4": ("2.14.0", "redis-photon", 140, "v2.14.4", ""),
    "v2.15.2": ("2.15.0", "valkey-photon", 150, "v2.15.2", ""),
    # test data: a release that breaks after migrating (schema 153 committed, core never healthy);
    # Harbor has no v2.15.3 reference, so it ships v2.15.2's harbor.yml.tmpl
    "v2.15.3": ("2.15.0", "valkey-photon", 153, "v2.15.2", "unhealthy-after-migrate"),
}

SWAGGER_FROM = "v2.15.2"  # reference/<tag>/swagger.yaml, packed as /opt/standin/swagger.yaml into every image

PY = ["python3", "-u"]
HC = ["CMD", "python3", "/opt/standin/healthcheck.py"]


def components(redis_image):
    """component image -> (User, Entrypoint, Cmd, Healthcheck test, exposed ports, extra env, stop signal)"""
    return {
        "prepare": ("0:0", ["python3", "/opt/standin/prepare.py"], ["prepare"], None, [], [], None),
        "harbor-log": ("0:0", None, ["/opt/standin/bin/log.sh"], HC + ["tcp", "127.0.0.1", "10514"],
                       ["10514/tcp"], [], None),
        "registry-photon": ("10000:10000", None, ["/usr/bin/docker-registry", "serve", "/etc/registry/config.yml"],
                            HC + ["http", "http://127.0.0.1:5000/"], ["5000/tcp"], [], None),
        "harbor-registryctl": ("10000:10000", None, PY + ["/opt/standin/smallsvc.py", "registryctl"],
                               HC + ["http", "http://127.0.0.1:8080/api/health"], ["8080/tcp"], [], None),
        "harbor-db": ("999:999", None, ["/opt/standin/bin/db.sh"], ["CMD", "/opt/standin/bin/db.sh", "healthcheck"],
                      ["5432/tcp"], ["PGDATA=/var/lib/postgresql/data/pg15"], "SIGINT"),
        "harbor-core": ("10000:10000", None, PY + ["/opt/standin/core.py"],
                        HC + ["http", "http://127.0.0.1:8080/api/v2.0/ping"], ["8080/tcp"], [], None),
        "harbor-portal": ("10000:10000", None, ["nginx", "-g", "daemon off;", "-e", "stderr"],
                          HC + ["http", "http://127.0.0.1:8080/"], ["8080/tcp"], [], "SIGQUIT"),
        "harbor-jobservice": ("10000:10000", None, PY + ["/opt/standin/smallsvc.py", "jobservice"],
                              HC + ["http", "http://127.0.0.1:8080/api/v1/stats"], ["8080/tcp"], [], None),
        redis_image: ("999:999", None, ["redis-server", "/etc/standin/redis.conf"],
                      ["CMD", "redis-cli", "-h", "127.0.0.1", "ping"], ["6379/tcp"], [], None),
        "nginx-photon": ("10000:10000", None, ["nginx", "-g", "daemon off;", "-e", "stderr"],
                         HC + ["http", "http://127.0.0.1:8080/", "500"], ["8080/tcp", "8443/tcp"], [], "SIGQUIT"),
        "trivy-adapter-photon": ("10000:10000", None, PY + ["/opt/standin/smallsvc.py", "trivy-adapter"],
                                 HC + ["http", "http://127.0.0.1:8080/probe/healthy"], ["8080/tcp"], [], None),
        "harbor-exporter": ("10000:10000", None, PY + ["/opt/standin/smallsvc.py", "exporter"],
                            HC + ["http", "http://127.0.0.1:8080/metrics"], ["8080/tcp"], [], None),
    }


def log(msg):
    sys.stderr.write(f"mkbundle: {msg}\n")
    sys.stderr.flush()


def tar_entry(name, size=0, mode=0o644, kind=tarfile.REGTYPE):
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.type, info.mtime = size, mode, kind, MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info.tobuf(format=tarfile.GNU_FORMAT)


def pad(size):
    return b"\0" * ((512 - size % 512) % 512)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def gz_member(data_iter, level):
    """One gzip member (mtime 0, no name) of the concatenated chunks."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=level, mtime=0) as gz:
        for chunk in data_iter:
            gz.write(chunk)
    return buf.getvalue()


def layer_segment(path, digest):
    """The save archive's entries for one layer: its dir and its layer.tar."""
    size = os.path.getsize(path)
    yield tar_entry(f"{digest}/", mode=0o755, kind=tarfile.DIRTYPE)
    yield tar_entry(f"{digest}/layer.tar", size)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            yield block
    yield pad(size)


def rootfs_member(rootfs):
    """(diff id, gzip member) of the rootfs layer, cached beside the rootfs tarball."""
    cache = rootfs + ".layer.gz"
    meta = rootfs + ".layer.json"
    st = os.stat(rootfs)
    if os.path.exists(cache) and os.path.exists(meta):
        with open(meta) as fh:
            m = json.load(fh)
        if m.get("size") == st.st_size and m.get("mtime") == int(st.st_mtime):
            return m["digest"], cache
    t = time.time()
    digest = sha256_file(rootfs)
    with open(cache + ".part", "wb") as out:
        with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=6, mtime=0) as gz:
            for chunk in layer_segment(rootfs, digest):
                gz.write(chunk)
    os.replace(cache + ".part", cache)
    with open(meta, "w") as fh:
        json.dump({"digest": digest, "size": st.st_size, "mtime": int(st.st_mtime)}, fh)
    log(f"compressed the rootfs layer once ({os.path.getsize(cache) >> 20} MiB, {time.time() - t:.0f}s)")
    return digest, cache


def app_layer(app_dir, swagger=None):
    """The stand-in's code as a layer tar (bytes); core checks request bodies against `swagger`."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        def add_dir(name):
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, MTIME
            tar.addfile(info)

        def add_file(name, src, mode):
            with open(src, "rb") as fh:
                data = fh.read()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, MTIME
            tar.addfile(info, io.BytesIO(data))
        add_dir("etc/standin")
        add_file("etc/standin/redis.conf", os.path.join(app_dir, "etc/redis.conf"), 0o644)
        add_file("etc/rsyslog.conf", os.path.join(app_dir, "etc/rsyslog.conf"), 0o644)
        add_dir("opt/standin")
        add_dir("opt/standin/bin")
        for name in sorted(os.listdir(os.path.join(app_dir, "bin"))):
            add_file(f"opt/standin/bin/{name}", os.path.join(app_dir, "bin", name), 0o755)
        for name in sorted(os.listdir(app_dir)):
            if name.endswith(".py"):
                add_file(f"opt/standin/{name}", os.path.join(app_dir, name), 0o755)
        if swagger:
            add_file("opt/standin/swagger.yaml", swagger, 0o644)
        add_file("usr/share/nginx/html/index.html", os.path.join(app_dir, "etc/index.html"), 0o644)
    return buf.getvalue()


def image_config(tag, comp, spec, diff_ids):
    cfg_version, redis_image, schema, _, fault = RELEASES[tag]
    user, entrypoint, cmd, health, ports, env, stop = spec
    config = {
        "User": user,
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8",
                "PYTHONDONTWRITEBYTECODE=1", f"HARBOR_STANDIN_VERSION={tag}",
                f"HARBOR_STANDIN_CFG_VERSION={cfg_version}", f"HARBOR_STANDIN_REDIS_IMAGE={redis_image}",
                f"HARBOR_STANDIN_SCHEMA={schema}", f"HARBOR_STANDIN_COMPONENT={comp}"]
               + ([f"HARBOR_STANDIN_FAULT={fault}"] if fault else []) + env,
        "Cmd": cmd,
        "WorkingDir": "/",
        "Labels": {"org.opencontainers.image.title": f"goharbor/{comp}",
                   "org.opencontainers.image.version": tag,
                   "org.opencontainers.image.description": "harbor.deploy test stand-in (not Harbor)",
                   "io.harbor-deploy.standin": "true"},
    }
    if entrypoint:
        config["Entrypoint"] = entrypoint
    if health:
        config["Healthcheck"] = {"Test": health, "Interval": 10 * 10**9, "Timeout": 5 * 10**9,
                                 "StartPeriod": 5 * 10**9, "Retries": 3}
    if ports:
        config["ExposedPorts"] = {p: {} for p in ports}
    if stop:
        config["StopSignal"] = stop
    return {
        "architecture": "amd64", "os": "linux", "created": CREATED, "config": config,
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{d}" for d in diff_ids]},
        "history": [{"created": CREATED, "created_by": "debootstrap bookworm + Debian packages (stand-in rootfs)"},
                    {"created": CREATED, "created_by": "stand-in Harbor code (tests/standin/app)"}],
    }


def images_member(tag, diff_ids):
    """Configs, manifest.json and the archive's end: the per-release gzip member."""
    redis_image = RELEASES[tag][1]
    entries, manifest, repos = [], [], {}
    for comp, spec in components(redis_image).items():
        data = json.dumps(image_config(tag, comp, spec, diff_ids),
                          sort_keys=True, separators=(",", ":")).encode()
        cid = hashlib.sha256(data).hexdigest()
        entries.append((f"{cid}.json", data))
        manifest.append({"Config": f"{cid}.json", "RepoTags": [f"goharbor/{comp}:{tag}"],
                         "Layers": [f"{d}/layer.tar" for d in diff_ids]})
        repos[f"goharbor/{comp}"] = {tag: diff_ids[-1]}
    entries.append(("manifest.json", json.dumps(manifest, separators=(",", ":")).encode()))
    entries.append(("repositories", json.dumps(repos, separators=(",", ":")).encode()))

    def chunks():
        for name, data in entries:
            yield tar_entry(name, len(data))
            yield data
            yield pad(len(data))
        yield b"\0" * 1024  # end of archive
    return gz_member(chunks(), 9), sorted(manifest[i]["RepoTags"][0] for i in range(len(manifest)))


def write_tgz(out, files):
    """files: list of (arcname, source path or bytes, mode). Unpacks to harbor/."""
    with open(out + ".part", "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1, mtime=0) as gz:
            with tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar:
                info = tarfile.TarInfo("harbor")
                info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, MTIME
                tar.addfile(info)
                for arc, src, mode in files:
                    info = tarfile.TarInfo(f"harbor/{arc}")
                    info.mode, info.mtime = mode, MTIME
                    if isinstance(src, bytes):
                        info.size = len(src)
                        tar.addfile(info, io.BytesIO(src))
                    else:
                        info.size = os.path.getsize(src)
                        with open(src, "rb") as fh:
                            tar.addfile(info, fh)
    os.replace(out + ".part", out)


def main(rootfs, app_dir, bundle_dir, ref_dir, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    t0 = time.time()
    root_digest, root_gz = rootfs_member(rootfs)
    # Harbor's API description (the one release the stand-in's API follows)
    app = app_layer(app_dir, os.path.join(ref_dir, SWAGGER_FROM, "swagger.yaml"))
    app_digest = hashlib.sha256(app).hexdigest()
    app_gz = gz_member([tar_entry(f"{app_digest}/", mode=0o755, kind=tarfile.DIRTYPE),
                        tar_entry(f"{app_digest}/layer.tar", len(app)), app, pad(len(app))], 9)
    diff_ids = [root_digest, app_digest]
    work = os.path.join(out_dir, ".work")
    os.makedirs(work, exist_ok=True)
    names = []
    for tag in RELEASES:
        tmpl = os.path.join(ref_dir, RELEASES[tag][3], "harbor.yml.tmpl")
        if not os.path.isfile(tmpl):
            sys.exit(f"mkbundle: missing {tmpl}")
        member, tags = images_member(tag, diff_ids)
        images = os.path.join(work, f"harbor.{tag}.tar.gz")
        with open(images, "wb") as out:
            with open(root_gz, "rb") as fh:
                shutil.copyfileobj(fh, out, 1 << 20)
            out.write(app_gz)
            out.write(member)
        with open(os.path.join(bundle_dir, "prepare")) as fh:
            prepare = fh.read().replace("@VERSION@", tag).encode()
        common = [("prepare", prepare, 0o755),
                  ("install.sh", os.path.join(bundle_dir, "install.sh"), 0o755),
                  ("common.sh", os.path.join(bundle_dir, "common.sh"), 0o644),
                  ("harbor.yml.tmpl", tmpl, 0o644),
                  ("LICENSE", os.path.join(bundle_dir, "LICENSE"), 0o644)]
        offline = f"harbor-offline-installer-{tag}.tgz"
        online = f"harbor-online-installer-{tag}.tgz"
        write_tgz(os.path.join(out_dir, offline), [(f"harbor.{tag}.tar.gz", images, 0o644)] + common)
        write_tgz(os.path.join(out_dir, online), common)
        names += [offline, online]
        log(f"{tag}: {len(tags)} images, schema {RELEASES[tag][2]}"
            f"{', fault ' + RELEASES[tag][4] if RELEASES[tag][4] else ''} "
            f"({', '.join(t.split('/')[1] for t in tags)})")
    md5_lines = []
    for name in names:
        path = os.path.join(out_dir, name)
        with open(path, "rb") as fh:
            data_md5, data_sha = hashlib.md5(), hashlib.sha256()
            for block in iter(lambda: fh.read(1 << 20), b""):
                data_md5.update(block)
                data_sha.update(block)
        with open(path + ".sha256", "w") as fh:
            fh.write(f"{data_sha.hexdigest()}  {name}\n")
        md5_lines.append(f"{data_md5.hexdigest()}  {name}\n")
    with open(os.path.join(out_dir, "md5sum"), "w") as fh:
        fh.writelines(md5_lines)
    shutil.rmtree(work)
    log(f"bundles written in {time.time() - t0:.0f}s")


if __name__ == "__main__":
    if sys.argv[1:] == ["--releases"]:
        for release, spec in RELEASES.items():
            print(release, spec[3])
        sys.exit(0)
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    main(*sys.argv[1:])
