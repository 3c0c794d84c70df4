# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The filter harbor_ha_secrets: which secrets the nodes of a Harbor in HA share, and where they come from.

Its documentation lives beside this file in harbor_ha_secrets.yml.
"""

from __future__ import annotations

import base64
import hashlib
import json

from ansible.errors import AnsibleFilterError

# The files every node must hold identical (data_volume/secret/...), by their key in the result.
KEY_FILES = ("secretkey", "private_key", "root_crt")
# The values prepare makes anew at every run, pinned in data_volume/secret/keys/ha-pinned.json.
PINNED = {"csrf_key": 32, "core_secret": 16, "jobservice_secret": 16, "scanner_prefix": 8}


def _decode(result):
    """The text of one slurp result, or None when the file was not there."""
    if not isinstance(result, dict) or result.get("failed") or "content" not in result:
        return None
    try:
        return base64.b64decode(result["content"]).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None


def _node_files(reads):
    """{key: text or None} from the registered slurp loop of one node (items named by KEY_FILES + pinned)."""
    found = {}
    for result in (reads or {}).get("results") or []:
        key = (result.get("item") or {}).get("key") if isinstance(result.get("item"), dict) else None
        if key:
            found[key] = _decode(result)
    return found


def _fingerprint(values):
    text = "\n".join("%s=%s" % (k, values.get(k) or "") for k in KEY_FILES)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _pinned(text):
    try:
        data = json.loads(text or "")
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    if all(isinstance(data.get(k), str) and len(data[k]) == n for k, n in PINNED.items()):
        return {k: data[k] for k in PINNED}
    return None


def harbor_ha_secrets(reads_by_node, source=""):
    """Decide the shared secrets from what each node holds.

    reads_by_node: {node: registered slurp loop}. Returns {source, values, generate, conflicts, message}.
    """
    if not isinstance(reads_by_node, dict):
        raise AnsibleFilterError("harbor_ha_secrets: expects a mapping of node to its registered reads")
    nodes = {node: _node_files(reads) for node, reads in reads_by_node.items()}
    complete = {node: files for node, files in nodes.items() if all(files.get(k) for k in KEY_FILES)}
    result = {"source": "", "values": {}, "generate": False, "conflicts": [], "message": ""}
    if source:
        if source not in nodes:
            result["message"] = ("install_ha_secrets_from: %s is not one of the nodes of this run (%s)"
                                 % (source, ", ".join(sorted(nodes))))
            return result
        if source not in complete:
            result["message"] = ("install_ha_secrets_from: %s does not hold the complete set (secret/keys/secretkey, "
                                 "secret/core/private_key.pem, secret/registry/root.crt)" % source)
            return result
        chosen = source
    elif complete:
        prints = {}
        for node in sorted(complete):
            prints.setdefault(_fingerprint(complete[node]), []).append(node)
        if len(prints) > 1:
            result["conflicts"] = ["%s: %s" % (fp, ", ".join(n)) for fp, n in sorted(prints.items())]
            result["message"] = (
                "the nodes hold different shared secrets (set %s): %s. They were installed apart; the database can "
                "only be read with the secretkey it was written with: set install_ha_secrets_from to the node whose "
                "secrets the others must take" % ("fingerprints", "; ".join(result["conflicts"])))
            return result
        chosen = sorted(complete)[0]
    else:
        result["generate"] = True
        chosen = ""
    result["source"] = chosen
    if chosen:
        result["values"] = {k: complete[chosen][k] for k in KEY_FILES}
    # The pinned values: the source's, else any node's that agree, else new ones (the caller makes them).
    pinned = _pinned(nodes.get(chosen, {}).get("pinned")) if chosen else None
    if pinned is None:
        others = {json.dumps(p, sort_keys=True) for p in (_pinned(f.get("pinned")) for f in nodes.values()) if p}
        if len(others) == 1:
            pinned = json.loads(others.pop())
    if pinned:
        result["values"].update(pinned)
    return result


class FilterModule:
    """High availability filters."""

    def filters(self):
        return {"harbor_ha_secrets": harbor_ha_secrets}
