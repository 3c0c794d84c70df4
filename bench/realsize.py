#!/usr/bin/env python3
"""Make a real-size stand-in offline installer for the bench (never for CI scenarios).

Reads the stand-in's harbor-offline-installer-v2.15.2.tgz and writes the same installer
whose harbor.v2.15.2.tar.gz has, on top of each stand-in image, one extra layer of
generated data (a single file /opt/standin/realsize/<component>.bin), so that:

  - each image's own bytes (its extra layer plus its 1/12 share of the stand-in's common
    rootfs + app layers) are the size of the real goharbor/<component>:v2.15.2 image, and
    the loaded total (unique bytes, `docker system df`) is the real images' summed size,
    about 2.2 GB (`docker images` shows each stand-in image as common layers + its extra
    layer, i.e. its real size + about 210 MB, because the common layers count per image);
  - the gzip'ed archive is about TARGET_GZ (650 MB, the size of Harbor's v2.15.2
    offline installer).

The data: 1 MiB blocks, each RATIO random bytes (Python's random.Random seeded with
"SEED:<component>:<block>", reproducible for a given Python minor version) followed by
zeros. gzip keeps the random part (incompressible) and squeezes the zeros to ~0.1 %, so
each layer compresses to RATIO of its size; RATIO is computed once the common layers are
written: (TARGET_GZ - their compressed size) / (sum of the extra layers). That is about
0.29, close to Harbor's own images (650 MB compressed / ~2.2 GB loaded).

REAL_MB: per-image sizes of goharbor/*:v2.15.2 (MB, as `docker images` prints them).
No per-image figures for v2.15.2 were found (searched GitHub issues, docs and web pages:
only the offline installer's total, about 650 MB compressed, and listings of old 1.x
releases turned up). These are APPROXIMATIONS read from `docker images` listings of
recent v2.1x offline installs (photon 5 based images of the same components), chosen so
their sum is about 2.2 GB, the loaded total the issue names (about 2 GB). Change them
here when real figures are at hand: they are part of the cache key.

usage: realsize.py STANDIN_OFFLINE_TGZ OUT_DIR
Writes OUT_DIR/harbor-offline-installer-v2.15.2.tgz, a .sha256 beside it, md5sum, and
OUT_DIR/realsize.json (the sizes, the ratio, the archive's compressed size).
"""
import gzip
import hashlib
import io
import json
import os
import random
import sys
import tarfile
import time
import zlib

# The stand-in builder's tar helpers (same MTIME: same inputs, same bytes).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "standin", "image"))
from mkbundle import MTIME, pad, tar_entry  # noqa: E402  pylint: disable=wrong-import-position

TAG = "v2.15.2"
SEED = "harbor.deploy bench realsize 1"
TARGET_GZ = 650 * 10**6
BLOCK = 1 << 20
CREATED = "2024-01-01T00:00:00Z"

# goharbor/<component>:v2.15.2 image size in MB (10^6 bytes): approximations, see above
REAL_MB = {
    "prepare": 210,
    "harbor-log": 160,
    "registry-photon": 85,
    "harbor-registryctl": 160,
    "harbor-db": 270,
    "harbor-core": 185,
    "harbor-portal": 160,
    "harbor-jobservice": 160,
    "valkey-photon": 165,
    "nginx-photon": 155,
    "trivy-adapter-photon": 350,
    "harbor-exporter": 110,
}


def log(msg):
    sys.stderr.write(f"realsize: {msg}\n")
    sys.stderr.flush()


class GzOut:
    """A gzip stream (mtime 0, no name) into a file, counting compressed bytes."""

    def __init__(self, fh, level):
        self.fh = fh
        self.gz = gzip.GzipFile(fileobj=fh, mode="wb", compresslevel=level, mtime=0)

    def write(self, data):
        self.gz.write(data)

    def flush(self):
        """Compressed bytes so far (exact after a sync flush)."""
        self.gz.flush(zlib.Z_SYNC_FLUSH)
        return self.fh.tell()

    def close(self):
        self.gz.close()


def layer_blocks(comp, size, ratio):
    """The extra layer's file content, block by block."""
    rnd_len = int(BLOCK * ratio)
    done, i = 0, 0
    while done < size:
        n = min(BLOCK, size - done)
        r = min(rnd_len, n)
        data = random.Random(f"{SEED}:{comp}:{i}").randbytes(r) + bytes(n - r)
        yield data
        done += n
        i += 1


def extra_layer_tar(comp, size, ratio):
    """The layer tar (dirs + one file), streamed: yields chunks."""
    yield tar_entry("opt/", mode=0o755, kind=tarfile.DIRTYPE)
    yield tar_entry("opt/standin/", mode=0o755, kind=tarfile.DIRTYPE)
    yield tar_entry("opt/standin/realsize/", mode=0o755, kind=tarfile.DIRTYPE)
    yield tar_entry(f"opt/standin/realsize/{comp}.bin", size)
    yield from layer_blocks(comp, size, ratio)
    yield pad(size)
    yield b"\0" * 1024


def extra_layer_len(size):
    return 4 * 512 + size + len(pad(size)) + 1024


def main(src_tgz, out_dir):
    t0 = time.time()
    os.makedirs(out_dir, exist_ok=True)
    work_archive = os.path.join(out_dir, f"harbor.{TAG}.tar.gz.part")
    # 1. read the stand-in installer: its small files and its image archive's entries
    small = []
    with tarfile.open(src_tgz, "r:gz") as tgz:
        archive_member = None
        for m in tgz.getmembers():
            if m.name == f"harbor/harbor.{TAG}.tar.gz":
                archive_member = m
            elif m.isfile():
                small.append((m.name, tgz.extractfile(m).read(), m.mode))
        if archive_member is None:
            sys.exit(f"realsize: no harbor/harbor.{TAG}.tar.gz in {src_tgz}")
        archive_fh = tgz.extractfile(archive_member)
        out = open(work_archive, "wb")
        gz = GzOut(out, 1)
        configs, manifest, common_size = {}, None, 0
        # 2. copy the common layers as they are (re-compressed), keep the metadata for later
        # the archive is several gzip members one after another: GzipFile reads them all
        # (tarfile's own r|gz stops after the first)
        with tarfile.open(fileobj=gzip.GzipFile(fileobj=archive_fh, mode="rb"), mode="r|") as save:
            for m in save:
                if m.isdir():
                    gz.write(tar_entry(m.name if m.name.endswith("/") else m.name + "/", mode=0o755,
                                       kind=tarfile.DIRTYPE))
                    continue
                f = save.extractfile(m)
                if m.name == "manifest.json":
                    manifest = json.load(f)
                elif m.name == "repositories":
                    pass  # rewritten below
                elif m.name.endswith(".json") and "/" not in m.name:
                    configs[m.name] = f.read()
                else:  # a layer: stream it through
                    gz.write(tar_entry(m.name, m.size))
                    for block in iter(lambda: f.read(1 << 20), b""):
                        gz.write(block)
                    gz.write(pad(m.size))
                    common_size += m.size
    common_gz = gz.flush()
    comps = {}
    for entry in manifest:
        comp = entry["RepoTags"][0].split("/", 1)[1].split(":")[0]
        comps[comp] = entry
    if set(comps) != set(REAL_MB):
        sys.exit(f"realsize: the stand-in's images {sorted(comps)} are not REAL_MB's {sorted(REAL_MB)}")
    # common_size: the common layers' uncompressed size (what every stand-in image shares)
    share = common_size / len(comps)
    extra = {c: max(0, REAL_MB[c] * 10**6 - int(share)) for c in comps}
    extra = {c: s - s % 512 for c, s in extra.items()}
    total_extra = sum(extra.values())
    ratio = max(0.0, min(1.0, (TARGET_GZ - common_gz - 2 * 10**6) / total_extra))
    log(f"common layers {common_size / 1e6:.0f} MB ({common_gz / 1e6:.0f} MB gz), extra layers "
        f"{total_extra / 1e6:.0f} MB, random fraction {ratio:.3f}")
    # 3. one extra layer per image, then the configs, manifest.json and repositories
    new_manifest, new_repos = [], {}
    for comp in sorted(comps):
        entry = comps[comp]
        size = extra[comp]
        h = hashlib.sha256()
        name = hashlib.sha256(f"{SEED}:{comp}:{size}:{ratio:.6f}".encode()).hexdigest()
        gz.write(tar_entry(f"{name}/", mode=0o755, kind=tarfile.DIRTYPE))
        gz.write(tar_entry(f"{name}/layer.tar", extra_layer_len(size)))
        for chunk in extra_layer_tar(comp, size, ratio):
            h.update(chunk)
            gz.write(chunk)
        diff_id = h.hexdigest()
        cfg = json.loads(configs[entry["Config"]])
        cfg["rootfs"]["diff_ids"].append(f"sha256:{diff_id}")
        cfg["history"].append({"created": CREATED, "created_by":
                               f"bench/realsize.py: {size} bytes of seeded data, {ratio:.3f} random"})
        cfg["config"]["Labels"]["io.harbor-deploy.bench-realsize"] = str(size)
        data = json.dumps(cfg, sort_keys=True, separators=(",", ":")).encode()
        cid = hashlib.sha256(data).hexdigest()
        gz.write(tar_entry(f"{cid}.json", len(data)))
        gz.write(data)
        gz.write(pad(len(data)))
        tag = entry["RepoTags"][0]
        new_manifest.append({"Config": f"{cid}.json", "RepoTags": [tag],
                             "Layers": entry["Layers"] + [f"{name}/layer.tar"]})
        new_repos[tag.split(":")[0]] = {TAG: name}
        log(f"  goharbor/{comp}: +{size / 1e6:.0f} MB")
    for fname, obj in (("manifest.json", new_manifest), ("repositories", new_repos)):
        data = json.dumps(obj, separators=(",", ":")).encode()
        gz.write(tar_entry(fname, len(data)))
        gz.write(data)
        gz.write(pad(len(data)))
    gz.write(b"\0" * 1024)
    gz.close()
    out.close()
    archive_gz = os.path.getsize(work_archive)
    # 4. the installer: the stand-in's files, this archive in place of its own
    tgz_name = f"harbor-offline-installer-{TAG}.tgz"
    tgz_path = os.path.join(out_dir, tgz_name)
    with open(tgz_path + ".part", "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1, mtime=0) as g:
            with tarfile.open(fileobj=g, mode="w", format=tarfile.GNU_FORMAT) as tar:
                info = tarfile.TarInfo("harbor")
                info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, MTIME
                tar.addfile(info)
                info = tarfile.TarInfo(f"harbor/harbor.{TAG}.tar.gz")
                info.size, info.mode, info.mtime = archive_gz, 0o644, MTIME
                with open(work_archive, "rb") as fh:
                    tar.addfile(info, fh)
                for name, data, mode in small:
                    info = tarfile.TarInfo(name)
                    info.size, info.mode, info.mtime = len(data), mode, MTIME
                    tar.addfile(info, io.BytesIO(data))
    os.replace(tgz_path + ".part", tgz_path)
    os.remove(work_archive)
    md5, sha = hashlib.md5(), hashlib.sha256()
    with open(tgz_path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            md5.update(block)
            sha.update(block)
    with open(tgz_path + ".sha256", "w") as fh:
        fh.write(f"{sha.hexdigest()}  {tgz_name}\n")
    with open(os.path.join(out_dir, "md5sum"), "w") as fh:
        fh.write(f"{md5.hexdigest()}  {tgz_name}\n")
    with open(os.path.join(out_dir, "realsize.json"), "w") as fh:
        json.dump({"real_mb": REAL_MB, "extra_bytes": extra, "common_bytes": common_size,
                   "random_fraction": ratio, "archive_gz_bytes": archive_gz,
                   "loaded_unique_bytes": common_size + total_extra,
                   "installer_bytes": os.path.getsize(tgz_path)}, fh, indent=1, sort_keys=True)
    log(f"{tgz_name}: archive {archive_gz / 1e6:.0f} MB gz, {(common_size + total_extra) / 1e9:.2f} GB "
        f"loaded, installer {os.path.getsize(tgz_path) / 1e6:.0f} MB, {time.time() - t0:.0f}s")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(*sys.argv[1:])
