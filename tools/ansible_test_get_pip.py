# -*- coding: utf-8 -*-
# Copyright: harbor.deploy maintainers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Stand-in for ansible-test's pip bootstrap script, for hosts that cannot reach ci-files.testing.ansible.com.

ansible-test creates each of its sanity venvs without pip. It then runs
https://ci-files.testing.ansible.com/ansible-test/get-pip-<version>.py, cached as
~/.ansible/test/cache/get_pip_<version>.py, with arguments like
``--disable-pip-version-check pip==24.2 --no-setuptools --no-wheel``. `make sanity` copies this
file to that cache path if nothing is there yet.

Like get-pip.py, it runs a pip from a wheel (the one ensurepip bundles with CPython) to install
the requested pip from the configured package index. Some Python builds (Debian's, for example)
have no bundled wheels. There it runs ensurepip and upgrades the pip that ensurepip installs.
On Python < 3.12 ensurepip also installs setuptools. The script removes it again when
``--no-setuptools`` is given, because get-pip.py would not have installed it.
"""

import glob
import os
import subprocess
import sys

QUIET = ["--disable-pip-version-check", "-q"]


def bundled_pip():
    try:
        import ensurepip
    except ImportError:
        return None
    wheels = sorted(glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), "_bundled", "pip-*.whl")))
    return wheels[-1] if wheels else None


def installed(name):
    probe = "import importlib.metadata as m; m.version(%r)" % name
    return subprocess.call([sys.executable, "-c", probe], stderr=subprocess.DEVNULL) == 0


def main(argv):
    packages = [arg for arg in argv if not arg.startswith("-")] or ["pip"]
    wheel = bundled_pip()
    if wheel:
        subprocess.check_call([sys.executable, os.path.join(wheel, "pip"), "install"] + QUIET + packages)
    else:
        subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
        subprocess.check_call([sys.executable, "-m", "pip", "install"] + QUIET + packages)
    unwanted = [name for name in ("setuptools", "wheel") if "--no-" + name in argv and installed(name)]
    if unwanted:
        subprocess.check_call([sys.executable, "-m", "pip", "uninstall", "-y"] + QUIET + unwanted)


if __name__ == "__main__":
    main(sys.argv[1:])
