# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Set the CRI registry ``config_path`` in a containerd config.toml, keeping the rest.

containerd's config.toml names tables with quoted dotted keys
(``[plugins."io.containerd.grpc.v1.cri".registry]``, or with single quotes as
containerd 2.x writes them), so the edit is done on the text, table-aware, and the
result is checked by parsing it (tomllib): the new document must equal the old one
with only that key changed, or the edit is refused.
"""

from __future__ import annotations

import copy
import json
import re

try:  # Python >= 3.11 (the controller's minimum for ansible-core 2.19)
    import tomllib
except ImportError:  # pragma: no cover
    tomllib = None

# Where the CRI plugin reads its registry settings, by config file version.
REGISTRY_TABLES = {
    2: ("plugins", "io.containerd.grpc.v1.cri", "registry"),
    3: ("plugins", "io.containerd.cri.v1.images", "registry"),
}
KEY = "config_path"

_HEADER = re.compile(r"^(?P<indent>[ \t]*)\[(?!\[)(?P<name>[^\]]*)\][ \t]*(#.*)?$")
_ANY_HEADER = re.compile(r"^[ \t]*\[")
_KEY_LINE = re.compile(r"^(?P<indent>[ \t]*)(config_path|\"config_path\"|'config_path')[ \t]*=")
_BARE = re.compile(r"[A-Za-z0-9_-]+")


class ContainerdTomlError(ValueError):
    """The file cannot be edited safely; the message says why."""


def _split_key(name):
    """Split a TOML dotted key (``plugins."a.b".c``) into its parts, or None if it is not one."""
    parts, i, name = [], 0, name.strip()
    while i < len(name):
        while i < len(name) and name[i] in " \t":
            i += 1
        if i < len(name) and name[i] in "\"'":
            quote = name[i]
            end = name.find(quote, i + 1)
            if end < 0:
                return None
            parts.append(name[i + 1:end])
            i = end + 1
        else:
            match = _BARE.match(name, i)
            if not match:
                return None
            parts.append(match.group(0))
            i = match.end()
        while i < len(name) and name[i] in " \t":
            i += 1
        if i < len(name):
            if name[i] != ".":
                return None
            i += 1
    return parts


def _table_name(parts):
    return ".".join(p if _BARE.fullmatch(p) else json.dumps(p) for p in parts)


def _get(doc, parts):
    for part in parts:
        if not isinstance(doc, dict) or part not in doc:
            return None
        doc = doc[part]
    return doc


def _parse(text, what):
    if tomllib is None:  # pragma: no cover
        raise ContainerdTomlError("Python's tomllib (Python >= 3.11) is needed on the controller")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ContainerdTomlError(f"{what} is not valid TOML: {exc}") from exc


def wanted_value(current, path):
    """The config_path to set: ``path`` alone, or ``path`` first in a ``:`` list that lacks it."""
    entries = [e for e in (current or "").split(":") if e]
    if path in entries:
        return current
    return ":".join([path] + entries)


def set_config_path(text, path, new_version=2):
    """Return ``(new_text, table, old_value, new_value)`` for config.toml ``text``.

    ``text`` empty (or only comments/blank lines) means there is no file: a minimal one of
    config ``new_version`` is written. Otherwise the file's own ``version`` picks the
    table. An existing config_path that does not list ``path`` gets it prepended
    (containerd reads a ``:``-separated list, first match wins).
    """
    text = text or ""
    doc = _parse(text, "config.toml")
    fresh = not doc
    version = new_version if fresh else doc.get("version", 1)
    if version not in REGISTRY_TABLES:
        raise ContainerdTomlError(
            f"config.toml has version = {version}; only versions 2 (containerd 1.x) and 3 (containerd 2.x) "
            "are handled: migrate it first (containerd config migrate)")
    parts = REGISTRY_TABLES[version]
    table = _table_name(parts)
    registry = _get(doc, parts)
    if registry is not None and not isinstance(registry, dict):
        raise ContainerdTomlError(f"[{table}] is not a table in config.toml")
    registry = registry or {}
    for legacy in ("mirrors", "configs"):
        if registry.get(legacy):
            raise ContainerdTomlError(
                f"[{table}.{legacy}] is set: containerd refuses it together with config_path. "
                "Move those registries to hosts.toml files first")
    old = registry.get(KEY)
    if old is not None and not isinstance(old, str):
        raise ContainerdTomlError(f"{table}.config_path is not a string")
    new = wanted_value(old, path)
    if new == old:
        return text, table, old, new

    line = f"config_path = {json.dumps(new)}\n"
    if fresh:
        head = text if text.endswith("\n") or not text else text + "\n"
        result = f"{head}version = {version}\n\n[{table}]\n  {line}"
    else:
        lines = text.splitlines(keepends=True)
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        header = next((i for i, ln in enumerate(lines)
                       if (m := _HEADER.match(ln.rstrip("\r\n"))) and _split_key(m.group("name")) == list(parts)), None)
        if header is None:
            result = "".join(lines) + f"\n[{table}]\n  {line}"
        else:
            end = next((i for i in range(header + 1, len(lines)) if _ANY_HEADER.match(lines[i])), len(lines))
            at = next((i for i in range(header + 1, end) if _KEY_LINE.match(lines[i])), None)
            if at is not None:
                lines[at] = _KEY_LINE.match(lines[at]).group("indent") + line
            else:
                indent = _HEADER.match(lines[header].rstrip("\r\n")).group("indent") + "  "
                lines.insert(header + 1, indent + line)
            result = "".join(lines)

    expected = copy.deepcopy(doc)
    node = expected
    if fresh:
        node["version"] = version
    for part in parts:
        node = node.setdefault(part, {})
    node[KEY] = new
    try:
        got = _parse(result, "the edited config.toml")
    except ContainerdTomlError:
        got = None
    if got != expected:
        raise ContainerdTomlError(
            f"config.toml could not be edited safely (config_path set in an unusual way under [{table}]); "
            f"set {table}.config_path = {json.dumps(new)} by hand")
    return result, table, old, new
