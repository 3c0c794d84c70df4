#!/usr/bin/env bash
# usage: run-site.sh HOST [ansible-playbook options...]
# Runs site.yml on HOST with the scenario's inventory (as a user would, from the
# controller) and prints its output; the recap line of HOST comes last.
set -uo pipefail
host=$1; shift
export ANSIBLE_CALLBACKS_ENABLED=
ansible-playbook -i "$MOLECULE_EPHEMERAL_DIRECTORY/inventory" --limit "$host" "$@" harbor.deploy.site
rc=$?
exit $rc
