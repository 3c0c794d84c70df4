"""Run a role's tasks file on localhost with ansible-playbook, as the role tests do.

`site` holds play.yml (written by the test); `values` land in site/vars.json and are
passed with -e @vars.json. Returns (returncode, stdout + stderr).
"""

import json
import os
import subprocess
import sys


def ansible_playbook(site, values, *extra):
    (site / "vars.json").write_text(json.dumps(values))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_RETRY_FILES_ENABLED="false", ANSIBLE_LOCAL_TEMP=str(site / "tmp"))
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
               str(site / "play.yml"), "-e", "ansible_python_interpreter=" + sys.executable,
               "-e", "@" + str(site / "vars.json")] + list(extra)
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    return result.returncode, result.stdout + result.stderr
