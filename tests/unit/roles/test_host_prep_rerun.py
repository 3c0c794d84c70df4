"""host_prep's converged rerun, checked on localhost without touching the host's own files.

A rerun reads the host in two round trips (validate.yml: one shell; read.yml:
harbor.deploy.path_facts) and skips a task whose file, package or service is already as
wanted, by predicates evaluated on the controller (roles/host_prep/vars/main.yml). A
predicate that says "as wanted" where the module would change something would leave drift
uncorrected, so each one is checked here against the module itself, run in check mode on
files in a temporary directory:

- blockinfile (/etc/hosts, the nftables.service configuration): __host_prep_block_in_place;
- pam_limits (the session limits): __host_prep_limits_in_place;
- ansible.posix.sysctl (file and live value, read from /proc/sys): __host_prep_sysctl_in_place;
- template: the lookup the predicates render is the text the template module writes;
- path_facts + __host_prep_as_wanted: content, mode, type, absence;
- the parsing of the shell read (__host_prep_read_lines) and the role's own reads
  (validate.yml and read.yml run on localhost: they only read).

Some cases are stricter than the module (marked "strict": the predicate says "not as
wanted", the module would change nothing): that only costs a task, never a missed drift.
Writes root-owned files in a temporary directory (the predicates want uid 0): run as root.
"""

import json
import os
import pathlib
import re

import pytest

from _ansible_run import ansible_playbook

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the predicates want root-owned files")

ROLE = pathlib.Path(__file__).resolve().parents[3] / "roles" / "host_prep"
BEGIN = "# BEGIN harbor.deploy.host_prep"
END = "# END harbor.deploy.host_prep"
BLOCK = "10.0.0.1 harbor.lab.test ntp.lab.test\n10.0.0.2 node.lab.test"
BODY = BEGIN + "\n" + BLOCK + "\n" + END + "\n"

# name: (file content or None for no file, block ('' = state absent), strict)
BLOCKINFILE = {
    "exact": ("127.0.0.1 localhost\n" + BODY + "::1 localhost\n", BLOCK, False),
    "exact_at_start": (BODY, BLOCK, False),
    "no_newline_after_end": ("127.0.0.1 localhost\n" + BODY.rstrip("\n"), BLOCK, False),
    "line_changed": ("127.0.0.1 localhost\n" + BODY.replace("10.0.0.2", "10.0.0.9"), BLOCK, False),
    "line_added": ("127.0.0.1 localhost\n" + BODY.replace(END, "10.0.0.3 x\n" + END), BLOCK, False),
    "two_blocks": (BODY + BODY, BLOCK, True),
    "crlf": (BODY.replace("\n", "\r\n"), BLOCK, False),
    "marker_inside_a_line": ("x " + BODY, BLOCK, False),
    "end_before_begin": (END + "\n" + BLOCK + "\n" + BEGIN + "\n", BLOCK, False),
    "missing_file": (None, BLOCK, False),
    "absent_none": ("127.0.0.1 localhost\n", "", False),
    "absent_present": ("127.0.0.1 localhost\n" + BODY, "", False),
    "absent_begin_only": ("127.0.0.1 localhost\n" + BEGIN + "\n", "", False),
    "absent_missing_file": (None, "", False),
    "include_line": ('#!/usr/sbin/nft -f\n' + BEGIN + '\ninclude "/etc/nftables.d/host_prep.nft"\n' + END + "\n",
                     'include "/etc/nftables.d/host_prep.nft"', False),
}

# name: (file content or None, domain, item, value, strict)
LIMITS = {
    "tabs": ("*\t-\tnofile\t16384\n", "*", "nofile", "16384", False),
    "spaces_and_comment": ("*    -   nofile   16384   # kept\n", "*", "nofile", "16384", False),
    "other_value": ("* - nofile 1024\n", "*", "nofile", "16384", False),
    "one_of_two_differs": ("* - nofile 16384\n* - nofile 1024\n", "*", "nofile", "16384", False),
    "commented": ("#* - nofile 16384\n", "*", "nofile", "16384", False),
    "soft_only": ("* soft nofile 16384\n", "*", "nofile", "16384", False),
    "other_domain_too": ("@grp - nofile 16384\n* - nofile 16384\n", "*", "nofile", "16384", False),
    "other_item": ("* - nproc 4096\n", "*", "nofile", "16384", False),
    "missing_file": (None, "*", "nofile", "16384", False),
    "user_domain": ("harbor - nproc 4096\n", "harbor", "nproc", "4096", False),
}


def live(key):
    return (pathlib.Path("/proc/sys") / key.replace(".", "/")).read_text().strip()


def sysctl_cases():
    somax = live("net.core.somaxconn")
    other = str(int(somax) + 1)
    ports = live("net.ipv4.ip_local_port_range")  # two numbers, tab-separated
    spaced = " ".join(ports.split())
    key = "net.core.somaxconn"
    # name: (file content or None, key, value, strict)
    return {
        "as_wanted": (f"{key}={somax}\n", key, somax, False),
        "spaces_around": (f"# x\n{key} = {somax}\n", key, somax, False),
        "last_line_differs": (f"{key}={somax}\n{key}=5\n", key, somax, False),
        "last_line_wins": (f"{key}=5\n{key}={somax}\n", key, somax, False),
        "commented": (f"# {key}={somax}\n", key, somax, False),
        "file_differs": (f"{key}={somax}\n", key, other, False),
        "live_differs": (f"{key}={other}\n", key, other, False),
        "missing_file": (None, key, somax, False),
        "crlf": (f"{key}={somax}\r\n", key, somax, False),
        "two_words": (f"net.ipv4.ip_local_port_range={spaced}\n", "net.ipv4.ip_local_port_range", spaced, False),
        "two_words_two_spaces": (f"net.ipv4.ip_local_port_range={spaced.replace(' ', '  ')}\n",
                                 "net.ipv4.ip_local_port_range", spaced, False),
        "unknown_key": ("net.core.no_such_key=1\n", "net.core.no_such_key", "1", False),
    }


PLAY = """\
- name: host_prep's rerun predicates against the modules
  hosts: all
  gather_facts: false
  tasks:
    - name: Load the role's data as the role has it on Debian
      ansible.builtin.include_vars: "{{ role }}/{{ item }}"
      loop: [defaults/main.yml, vars/Debian.yml, vars/main.yml]

    - name: Read the case files
      harbor.deploy.path_facts:
        paths: "{{ files }}"
        read: "{{ files }}"
      register: __host_prep_files_read

    - name: Run blockinfile in check mode
      ansible.builtin.blockinfile:
        path: "{{ site }}/bi/{{ item.key }}"
        marker: "# {mark} harbor.deploy.host_prep"
        block: "{{ item.value.block }}"
        state: "{{ 'present' if item.value.block | length > 0 else 'absent' }}"
        create: true
      check_mode: true
      loop: "{{ blockinfile | dict2items }}"
      register: bi

    - name: Report blockinfile
      ansible.builtin.debug:
        msg: "BI {{ item.item.key }} changed={{ item.changed }} in_place={{ __host_prep_block_in_place }}"
      loop: "{{ bi.results }}"
      vars:
        __host_prep_path: "{{ site }}/bi/{{ item.item.key }}"
        __host_prep_block: "{{ item.item.value.block }}"

    - name: Run pam_limits in check mode
      community.general.pam_limits:
        dest: "{{ site }}/limits/{{ item.2 }}"
        domain: "{{ item.0 }}"
        limit_type: "-"
        limit_item: "{{ item.1.name }}"
        value: "{{ item.1.value | string }}"
      check_mode: true
      loop: "{{ limits }}"
      register: pl

    # the role's loop item: [domain, {name, value}] (the case's name third)
    - name: Report pam_limits
      ansible.builtin.debug:
        msg: "PL {{ item.2 }} changed={{ pl.results[index].changed }} in_place={{ __host_prep_limits_in_place }}"
      loop: "{{ limits }}"
      loop_control:
        index_var: index
      vars:
        __host_prep_path: "{{ site }}/limits/{{ item.2 }}"

    - name: Run sysctl in check mode
      ansible.posix.sysctl:
        name: "{{ item.key }}"
        value: "{{ item.value }}"
        sysctl_file: "{{ site }}/sysctl/{{ item.case }}"
        sysctl_set: true
        reload: false
        state: present
      check_mode: true
      loop: "{{ sysctl }}"
      register: sc
      failed_when: false

    # the role's loop item: {key, value} (the case's name in case)
    - name: Report sysctl
      ansible.builtin.debug:
        msg: "SC {{ item.case }} changed={{ sc.results[index].changed }} in_place={{ __host_prep_sysctl_in_place }}"
      loop: "{{ sysctl }}"
      loop_control:
        index_var: index
      vars:
        __host_prep_path: "{{ site }}/sysctl/{{ item.case }}"

    - name: Write the templates with the template module
      ansible.builtin.template:
        src: "{{ role }}/templates/{{ item }}"
        dest: "{{ site }}/tmpl/{{ item }}"
        mode: "0644"
      loop: [chrony.conf.j2, chrony-no-clock-control.conf.j2, host_prep.nft.j2]

    - name: Write the service limits drop-in with the template module
      ansible.builtin.template:
        src: "{{ role }}/templates/service-limits.conf.j2"
        dest: "{{ site }}/tmpl/{{ item.item }}.conf"
        mode: "0644"
      loop: [{item: docker}]

    - name: Read the written templates
      harbor.deploy.path_facts:
        paths: "{{ written }}"
        read: "{{ written }}"
      register: __written
      vars:
        written: "{{ ['chrony.conf.j2', 'chrony-no-clock-control.conf.j2', 'host_prep.nft.j2', 'docker.conf']
                     | map('regex_replace', '^', site ~ '/tmpl/') | list }}"

    - name: Report the templates
      ansible.builtin.debug:
        msg: >-
          TM {{ item }} same={{ __written.paths[site ~ '/tmpl/' ~ item].content
          == lookup('ansible.builtin.template', role ~ '/templates/' ~ item) }}
      loop: [chrony.conf.j2, chrony-no-clock-control.conf.j2, host_prep.nft.j2]

    - name: Report the service limits template
      ansible.builtin.debug:
        msg: >-
          TM service-limits same={{ __written.paths[site ~ '/tmpl/docker.conf'].content
          == lookup('ansible.builtin.template', role ~ '/templates/service-limits.conf.j2') }}
      vars:
        item: {item: docker}

    - name: Report as_wanted
      ansible.builtin.debug:
        msg: "AW {{ item.name }} as_wanted={{ __host_prep_as_wanted }}"
      loop: "{{ as_wanted }}"
      loop_control:
        label: "{{ item.name }}"
      vars:
        __host_prep_path: "{{ item.path }}"
        __host_prep_want: "{{ item.want }}"

    - name: Parse a read of the host
      ansible.builtin.debug:
        msg: >-
          RD {{ {'firewalls': __host_prep_firewalls_in_use, 'installed': __host_prep_packages_installed,
                 'up': __host_prep_units_up, 'live': __host_prep_nftables_table_live} | to_json }}
      vars:
        __host_prep_host_read:
          stdout_lines:
            - firewall nftables
            - firewall ufw
            - package chrony installed
            - package nftables config-files
            - package package firewalld is not installed
            - package iptables installed
            - unit chrony active enabled
            - unit nftables active disabled
            - unit firewalld inactive unknown
            - nftables-table live
            - stray line
"""


def write_cases(site):
    files = []
    for sub, cases, content_of in (("bi", BLOCKINFILE, lambda c: c[0]), ("limits", LIMITS, lambda c: c[0]),
                                   ("sysctl", sysctl_cases(), lambda c: c[0])):
        (site / sub).mkdir()
        for name, case in cases.items():
            path = site / sub / name
            files.append(str(path))
            if content_of(case) is not None:
                path.write_bytes(content_of(case).encode())
    (site / "tmpl").mkdir()
    return files


def test_the_predicates_agree_with_the_modules(tmp_path):
    site = tmp_path
    files = write_cases(site)
    sysctl = sysctl_cases()
    proc = sorted({"/proc/sys/" + c[1].replace(".", "/") for c in sysctl.values()})

    # as_wanted cases: a root-owned file and directory, a wrong mode, a wrong content, absence
    aw = site / "aw"
    aw.mkdir(mode=0o755)
    aw.chmod(0o755)
    (aw / "good").write_text("text\n")
    (aw / "good").chmod(0o644)
    (aw / "mode").write_text("text\n")
    (aw / "mode").chmod(0o600)
    (aw / "link").symlink_to(aw / "good")
    want_file = {"exists": True, "type": "file", "uid": 0, "gid": 0, "mode": "0644", "content": "text\n"}
    want_dir = {"exists": True, "type": "directory", "uid": 0, "gid": 0, "mode": "0755"}
    as_wanted = [
        {"name": "good", "path": str(aw / "good"), "want": want_file, "expect": True},
        {"name": "content", "path": str(aw / "good"), "want": dict(want_file, content="other\n"), "expect": False},
        {"name": "mode", "path": str(aw / "mode"), "want": want_file, "expect": False},
        {"name": "link", "path": str(aw / "link"), "want": want_file, "expect": False},
        {"name": "dir", "path": str(aw), "want": want_dir, "expect": True},
        {"name": "dir_is_file", "path": str(aw / "good"), "want": want_dir, "expect": False},
        {"name": "absent", "path": str(aw / "none"), "want": {"exists": False}, "expect": True},
        {"name": "not_absent", "path": str(aw / "good"), "want": {"exists": False}, "expect": False},
        {"name": "missing", "path": str(aw / "none"), "want": want_file, "expect": False},
        {"name": "not_read", "path": str(aw / "never-read"), "want": {"exists": False}, "expect": False},
    ]
    read = files + proc + [c["path"] for c in as_wanted if c["name"] != "not_read"]

    values = {
        "role": str(ROLE),
        "site": str(site),
        "files": sorted(set(read)),
        "blockinfile": {k: {"block": v[1]} for k, v in BLOCKINFILE.items()},
        "limits": [[v[1], {"name": v[2], "value": v[3]}, k] for k, v in LIMITS.items()],
        "sysctl": [{"key": v[1], "value": v[2], "case": k} for k, v in sysctl.items()],
        "as_wanted": [{k: c[k] for k in ("name", "path", "want")} for c in as_wanted],
        # what the templates need beyond the defaults
        "__host_prep_chrony_service": "chrony",
    }
    (site / "play.yml").write_text(PLAY)
    rc, out = ansible_playbook(site, values)
    assert rc == 0, out[-4000:]

    def reports(tag):
        found = {}
        for line in out.splitlines():
            if '"msg": "' + tag + " " in line:
                words = line.split('"msg": "', 1)[1].rstrip('"').split()
                found[words[1]] = dict(w.split("=", 1) for w in words[2:])
        return found

    for tag, cases in (("BI", BLOCKINFILE), ("PL", LIMITS), ("SC", sysctl)):
        got = reports(tag)
        assert set(got) == set(cases), (tag, got)
        for name, case in cases.items():
            changed, in_place = got[name]["changed"] == "True", got[name]["in_place"] == "True"
            strict = case[-1]
            # never "as wanted" where the module changes something
            assert not (in_place and changed), (tag, name, got[name])
            if strict:
                assert not in_place and not changed, (tag, name, got[name])
            else:
                assert in_place == (not changed), (tag, name, got[name])

    templates = reports("TM")
    assert templates and all(v["same"] == "True" for v in templates.values()), templates

    got = reports("AW")
    for case in as_wanted:
        assert got[case["name"]]["as_wanted"] == str(case["expect"]), (case["name"], got[case["name"]])

    parsed = [line.split('"msg": "RD ', 1)[1].rstrip('"') for line in out.splitlines() if '"msg": "RD ' in line]
    assert len(parsed) == 1, out[-3000:]
    assert json.loads(parsed[0].encode().decode("unicode_escape")) == {
        "firewalls": ["nftables", "ufw"],
        "installed": ["chrony", "iptables"],
        "up": ["chrony"],
        "live": True,
    }


READ_PLAY = """\
- name: host_prep's own reads on localhost (read-only)
  hosts: all
  gather_facts: true
  tasks:
    # a test machine (a container) may run without systemd; the role's reads do not mind
    - name: Say that the service manager is systemd
      fake_facts:
        service_mgr: systemd

    - name: Load the OS data
      ansible.builtin.include_role:
        name: harbor.deploy.host_prep
        tasks_from: set_vars.yml
        public: true

    - name: Read the host's state (validate.yml, asserts and the one shell)
      ansible.builtin.include_role:
        name: harbor.deploy.host_prep
        tasks_from: validate.yml
        public: true

    - name: Check what this OS supports
      ansible.builtin.include_role:
        name: harbor.deploy.host_prep
        tasks_from: os_support.yml
        public: true

    - name: Read the files and the live kernel parameters (read.yml)
      ansible.builtin.include_role:
        name: harbor.deploy.host_prep
        tasks_from: read.yml
        public: true

    - name: Read the minimum keys as sysctl -n does
      ansible.builtin.command:
        argv: "{{ ['sysctl', '-n'] + host_prep_sysctl_defaults.keys() | list }}"
      register: sysctl_n
      changed_when: false

    - name: Report
      ansible.builtin.debug:
        msg: >-
          RD {{ {'lines': __host_prep_read_lines, 'paths': __host_prep_read_paths,
                 'found': __host_prep_files_found.keys() | list,
                 'min_read': __host_prep_sysctl_min_read, 'sysctl_n': sysctl_n.stdout_lines,
                 'effective': __host_prep_sysctl_effective,
                 'failed': __host_prep_files_read.failed | default(false)} | to_json }}
"""


FAKE_FACTS = """\
from ansible.module_utils.basic import AnsibleModule
module = AnsibleModule(argument_spec={"service_mgr": {"type": "str"}})
module.exit_json(changed=False, ansible_facts={"service_mgr": module.params["service_mgr"]})
"""


def test_the_role_reads_the_host_in_two_round_trips(tmp_path):
    (tmp_path / "play.yml").write_text(READ_PLAY)
    (tmp_path / "library").mkdir()
    (tmp_path / "library" / "fake_facts.py").write_text(FAKE_FACTS)
    values = {
        "host_prep_firewall": "auto",
        "host_prep_chrony_servers": [{"host": "ntp.example"}],
        "host_prep_sysctl": {"net.ipv4.tcp_keepalive_time": 600},
    }
    rc, out = ansible_playbook(tmp_path, values)
    assert rc == 0, out[-4000:]
    found = [line.split('"msg": "RD ', 1)[1].rstrip('"') for line in out.splitlines() if '"msg": "RD ' in line]
    assert len(found) == 1, out[-3000:]
    report = json.loads(found[0].encode().decode("unicode_escape"))
    for line in report["lines"]:
        assert re.match(r"^(firewall \S+|package \S+ \S+|unit \S+ \S+ \S+|nftables-table (live|missing))$", line), line
    assert not report["failed"], report
    assert set(report["found"]) == set(report["paths"]), report
    assert "/etc/hosts" in report["paths"] and "/proc/sys/net/core/somaxconn" in report["paths"], report
    # /proc/sys answers as sysctl -n does; the effective values keep the higher live ones
    assert report["min_read"] == report["sysctl_n"], report
    assert report["effective"]["net.ipv4.tcp_keepalive_time"] == 600, report
    assert report["effective"]["net.core.somaxconn"] == max(4096, int(report["sysctl_n"][1])), report
