"""harbor_ha_secrets (plugins/filter/harbor_ha.py): where the shared secrets of the HA nodes come from."""

import base64
import json

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.harbor.deploy.plugins.filter.harbor_ha import FilterModule

decide = FilterModule().filters()["harbor_ha_secrets"]
PINNED = {"csrf_key": "c" * 32, "core_secret": "s" * 16, "jobservice_secret": "j" * 16, "scanner_prefix": "p" * 8}


def reads(secretkey=None, private_key=None, root_crt=None, pinned=None):
    """A registered slurp loop as the install role makes it (missing files fail)."""
    results = []
    for key, text in (("secretkey", secretkey), ("private_key", private_key), ("root_crt", root_crt),
                      ("pinned", json.dumps(pinned) if isinstance(pinned, dict) else pinned)):
        item = {"key": key, "path": key}
        if text is None:
            results.append({"item": item, "failed": True, "msg": "file not found"})
        else:
            results.append({"item": item, "content": base64.b64encode(text.encode()).decode()})
    return {"results": results}


def full(tag, pinned=None):
    return reads("k" * 15 + tag, "KEY" + tag, "CRT" + tag, pinned)


def test_a_new_cluster_generates():
    got = decide({"a": reads(), "b": reads()})
    assert got["generate"] and got["source"] == "" and got["values"] == {} and not got["message"]


def test_the_node_that_has_them_is_the_source_and_its_pinned_values_are_kept():
    got = decide({"a": reads(), "b": full("1", PINNED)})
    assert got["source"] == "b" and not got["generate"]
    assert got["values"] == dict(secretkey="k" * 15 + "1", private_key="KEY1", root_crt="CRT1", **PINNED)


def test_nodes_that_agree_are_fine():
    got = decide({"a": full("1"), "b": full("1", PINNED), "c": reads()})
    assert got["source"] == "a" and not got["message"]
    assert got["values"]["csrf_key"] == PINNED["csrf_key"]  # from the node that had the pinned values


def test_nodes_that_disagree_fail_without_showing_a_secret():
    got = decide({"a": full("1"), "b": full("2")})
    assert got["message"].startswith("the nodes hold different shared secrets")
    assert "install_ha_secrets_from" in got["message"]
    assert "KEY1" not in got["message"] and "k" * 15 not in got["message"]
    assert len(got["conflicts"]) == 2


def test_the_named_source_wins():
    got = decide({"a": full("1"), "b": full("2")}, source="b")
    assert got["source"] == "b" and got["values"]["private_key"] == "KEY2" and not got["message"]


@pytest.mark.parametrize("source, says", [("z", "is not one of the nodes"), ("b", "does not hold the complete set")])
def test_a_named_source_must_hold_them(source, says):
    got = decide({"a": full("1"), "b": reads(secretkey="x" * 16)}, source=source)
    assert says in got["message"]


def test_partial_pinned_values_are_not_taken():
    got = decide({"a": full("1", {"csrf_key": "short"})})
    assert "csrf_key" not in got["values"]


def test_bad_input():
    with pytest.raises(AnsibleFilterError):
        decide([])
