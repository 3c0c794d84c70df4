"""Unit tests of plugins/module_utils/_containerd_toml.py: config_path in containerd's config.toml."""

import tomllib

import pytest

from ansible_collections.harbor.deploy.plugins.module_utils._containerd_toml import (
    ContainerdTomlError,
    set_config_path,
)

CERTS = "/etc/containerd/certs.d"

# /etc/containerd/config.toml as Debian 12's containerd 1.6.20 package ships it.
DEBIAN12 = """version = 2

[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "/etc/cni/net.d"
  [plugins."io.containerd.internal.v1.opt"]
    path = "/var/lib/containerd/opt"
"""

# The shape of `containerd config default` (1.6): the registry table exists, empty config_path.
DEFAULT_16 = """version = 2
root = "/var/lib/containerd"

[plugins]

  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "registry.k8s.io/pause:3.6"

    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = ""

      [plugins."io.containerd.grpc.v1.cri".registry.auths]

      [plugins."io.containerd.grpc.v1.cri".registry.mirrors]

  [plugins."io.containerd.internal.v1.opt"]
    path = "/opt/containerd"
"""

# containerd 2.x writes single-quoted names; the transfer plugin has a config_path of its own.
DEFAULT_20 = """version = 3

[plugins]
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = 'overlayfs'

    [plugins.'io.containerd.cri.v1.images'.registry]
      config_path = ''

  [plugins.'io.containerd.transfer.v1.local']
    config_path = ''
"""


def _registry(text, version):
    doc = tomllib.loads(text)
    name = "io.containerd.grpc.v1.cri" if version == 2 else "io.containerd.cri.v1.images"
    return doc["plugins"][name]["registry"]


def _without_registry(text):
    doc = tomllib.loads(text)
    for plugin in doc.get("plugins", {}).values():
        if isinstance(plugin, dict) and "registry" in plugin:
            plugin["registry"].pop("config_path", None)
            if not plugin["registry"]:
                del plugin["registry"]
    return doc


@pytest.mark.parametrize("text,version", [(DEBIAN12, 2), (DEFAULT_16, 2), (DEFAULT_20, 3)])
def test_sets_the_key_in_the_right_table_and_keeps_the_rest(text, version):
    new, table, old, value = set_config_path(text, CERTS)
    assert value == CERTS
    assert _registry(new, version)["config_path"] == CERTS
    assert _without_registry(new) == _without_registry(text)
    # idempotent: a second pass changes nothing
    assert set_config_path(new, CERTS)[0] == new


def test_debian12_gets_a_new_table_appended_and_the_original_lines_untouched():
    new, table, old, _ = set_config_path(DEBIAN12, CERTS)
    assert old is None
    assert table == 'plugins."io.containerd.grpc.v1.cri".registry'
    assert new.startswith(DEBIAN12)
    assert new.endswith('[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/containerd/certs.d"\n')


def test_existing_empty_value_is_replaced_in_place_with_its_indent():
    new = set_config_path(DEFAULT_16, CERTS)[0]
    assert '      config_path = "/etc/containerd/certs.d"\n' in new
    assert len(new.splitlines()) == len(DEFAULT_16.splitlines())


def test_transfer_plugins_config_path_is_not_touched():
    new = set_config_path(DEFAULT_20, CERTS)[0]
    assert tomllib.loads(new)["plugins"]["io.containerd.transfer.v1.local"]["config_path"] == ""


def test_key_missing_under_an_existing_table_is_inserted_after_its_header():
    text = 'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n[plugins."io.containerd.grpc.v1.cri".registry.auths]\n'
    new = set_config_path(text, CERTS)[0]
    assert new.splitlines()[2] == '  config_path = "/etc/containerd/certs.d"'
    assert _registry(new, 2)["config_path"] == CERTS


@pytest.mark.parametrize("text", ["", "# nothing here\n\n"])
def test_missing_file_gives_a_minimal_one(text):
    new, _, old, _ = set_config_path(text, CERTS, new_version=2)
    assert old is None
    assert tomllib.loads(new)["version"] == 2
    assert _registry(new, 2) == {"config_path": CERTS}
    new3 = set_config_path(text, CERTS, new_version=3)[0]
    assert tomllib.loads(new3)["version"] == 3
    assert _registry(new3, 3) == {"config_path": CERTS}


@pytest.mark.parametrize("current,expected", [
    ("/etc/containerd/certs.d", "/etc/containerd/certs.d"),
    ("/etc/docker/certs.d:/etc/containerd/certs.d", "/etc/docker/certs.d:/etc/containerd/certs.d"),
    ("/srv/hosts", "/etc/containerd/certs.d:/srv/hosts"),
])
def test_other_paths_are_kept(current, expected):
    text = f'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "{current}"\n'
    new, _, old, value = set_config_path(text, CERTS)
    assert old == current and value == expected
    assert _registry(new, 2)["config_path"] == expected
    if current == expected:
        assert new == text


@pytest.mark.parametrize("text,message", [
    ('version = 1\n[plugins.cri]\n', "version = 1"),
    ('[plugins.cri]\n', "version = 1"),
    ('version = 2\n[plugins\n', "not valid TOML"),
    ('version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]\n  endpoint = ["https://m"]\n',
     "mirrors"),
    ('version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  registry = "x"\n', "not a table"),
    # a dotted key in the parent table: appending a [registry] table would redefine it
    ('version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  registry.config_path = "/x"\n', "could not be edited safely"),
])
def test_refused_with_a_reason(text, message):
    with pytest.raises(ContainerdTomlError, match=message):
        set_config_path(text, CERTS)
