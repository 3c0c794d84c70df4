#!/usr/bin/env bash
# usage: run-site.sh HOST [ansible-playbook options...]
# Runs site.yml on HOST with the scenario's inventory (as a user would, from the
# controller) and prints its output; the recap line of HOST comes last.
set -euo pipefail
host=$1; shift
unset ANSIBLE_CALLBACKS_ENABLED
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0   # plain text, for the callers to search
exec 2>&1   # the error messages too, for the callers to search
exec ansible-playbook -i "$MOLECULE_EPHEMERAL_DIRECTORY/inventory" --limit "$host" "$@" harbor.deploy.site
