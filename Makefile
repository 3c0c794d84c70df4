# harbor.deploy: developer and CI entry points. `make test` is the one test command.
SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -eu -o pipefail -c

TOP := $(abspath .)
VENV ?= $(TOP)/.venv
CACHE ?= $(TOP)/.cache
PYTHON ?= python3
export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(CACHE)/collections
export ANSIBLE_FORCE_COLOR ?= 0
export PY_COLORS ?= 0
export ANSIBLE_NOCOLOR ?= 1
export MOLECULE_NO_LOG ?= false

# Scenarios run by `make molecule`, in this order; SCENARIO=name runs one.
SCENARIOS ?= $(shell ls -d molecule/*/molecule.yml 2>/dev/null | cut -d/ -f2 | grep -vx shared)
SCENARIO ?=
TIMES := $(CACHE)/times.txt

.PHONY: help setup lab artefacts lint sanity unit molecule test demo demo-clean bench bench-backup build clean changelog docs

help:
	@echo "make setup       venv with pinned tools (requirements.txt) and the collection on ANSIBLE_COLLECTIONS_PATH"
	@echo "make lab         build (or reuse) the lab VM image and the test artefacts under .cache/"
	@echo "make lint        yamllint + ansible-lint (production profile) + changelog + EE definition + sanity"
	@echo "make sanity      ansible-test sanity on the built collection (tests/sanity/README.md)"
	@echo "make unit        pytest tests/unit tests/conventions (one process per core)"
	@echo "make molecule    every molecule scenario (SCENARIO=name for one)"
	@echo "make test        lint + unit + molecule: what CI runs"
	@echo "make demo        a local lab VM with Harbor installed by playbooks/site.yml"
	@echo "make build       ansible-galaxy collection build into build/"
	@echo "make docs        Markdown docs of every plugin and role into build/docs/ (fails on broken docs)"

$(VENV)/.stamp-%: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements.txt
	rm -f $(VENV)/.stamp-*
	touch $@

REQ_KEY := $(shell sha256sum requirements.txt | cut -c1-12)

setup: $(VENV)/.stamp-$(REQ_KEY)
	mkdir -p $(CACHE)/collections/ansible_collections/harbor
	ln -sfn $(TOP) $(CACHE)/collections/ansible_collections/harbor/deploy

# Markdown pages of the plugins (ansible-doc) and roles (meta/argument_specs.yml): tools/docs.py.
docs: setup
	$(VENV)/bin/python tools/docs.py --dest $(TOP)/build/docs

# The lab image and every heavy artefact the scenarios share, built once per run
# and cached under .cache/ keyed by their inputs. Their references land in
# .cache/lab.env, which `make molecule` exports to the scenarios.
lab: setup
	image=$$(tests/lab/build-image.sh bookworm)
	# The builders get the image from the environment; lab.env is replaced only when all
	# of them are done, so a run reading it meanwhile sees the previous, complete one.
	export LAB_IMAGE=$$image
	new=$$(mktemp $(CACHE)/lab.env.XXXXXX)
	trap 'rm -f "$$new"' EXIT
	echo "LAB_IMAGE=$$image" > "$$new"
	for builder in tests/artefacts/*.sh; do
	  [ -x "$$builder" ] || continue
	  "$$builder" >> "$$new"
	done
	chmod 0644 "$$new"
	mv -f "$$new" $(CACHE)/lab.env
	cat $(CACHE)/lab.env

lint: setup
	yamllint -s .
	ansible-lint --offline -q
	antsibull-changelog lint
	# execution-environment.yml against ansible-builder's v3 schema, rendered into a
	# build context (offline, no image); its introspection must read meta/execution-environment.yml.
	rm -rf $(CACHE)/ee-context
	ansible-builder create -f execution-environment.yml -c $(CACHE)/ee-context --output-filename Containerfile -v 1 >/dev/null
	$(VENV)/bin/python $(CACHE)/ee-context/_build/scripts/introspect.py introspect $(CACHE)/collections \
	  | grep "cryptography.*from collection harbor.deploy" >/dev/null || { echo "lint: EE introspection misses harbor.deploy's requirements"; exit 1; }
	$(MAKE) --no-print-directory sanity

# ansible-test sanity on what ships: the built tarball unpacked in a temporary directory outside the
# git work tree (inside one, ansible-test lists files with git and skips the git-ignored build/ and
# .cache/; it refuses the symlinked .cache/collections tree), with tests/sanity/ignore-<core>.txt,
# which the build leaves out with the rest of tests/, copied in. Where ansible-test cannot download
# its pip bootstrap script, tools/ansible_test_get_pip.py stands in. See tests/sanity/README.md.
sanity: setup
	start=$$(date +%s)
	work=$$(mktemp -d "$${TMPDIR:-/tmp}/harbor-deploy-sanity.XXXXXX")
	trap 'rm -rf "$$work"' EXIT
	! git -C "$$work" rev-parse --is-inside-work-tree >/dev/null 2>&1 || { echo "sanity: $$work is in a git work tree"; exit 1; }
	root=$$work/ansible_collections/harbor/deploy
	mkdir -p "$$root"
	ansible-galaxy collection build --force --output-path "$$work" . >/dev/null
	tar -xzf "$$work"/harbor-deploy-*.tar.gz -C "$$root"
	core=$$($(VENV)/bin/python -c 'import ansible; print(".".join(ansible.__version__.split(".")[:2]))')
	[ -f tests/sanity/ignore-$$core.txt ] || { echo "sanity: no tests/sanity/ignore-$$core.txt for ansible-core $$core"; exit 1; }
	install -D -m 0644 tests/sanity/ignore-$$core.txt "$$root/tests/sanity/ignore-$$core.txt"
	pip=$$(grep -oP "^\s*pip='\K[0-9.]+" "$$($(VENV)/bin/python -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')/_internal/python_requirements.py" || true)
	[ -n "$$pip" ] || echo "sanity: cannot tell which pip ansible-test bootstraps; tools/ansible_test_get_pip.py not installed"
	get_pip=$$HOME/.ansible/test/cache/get_pip_$${pip//./_}.py
	if [ -n "$$pip" ] && { [ ! -f "$$get_pip" ] || grep -q "Stand-in for ansible-test's pip bootstrap script" "$$get_pip"; }; then
	  install -D -m 0644 tools/ansible_test_get_pip.py "$$get_pip"  # absent, or an older copy of it
	fi
	python=$$($(VENV)/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
	(cd "$$root" && ansible-test sanity --python $$python) 2>&1 | tee "$$work/sanity.log"
	# ansible-test passes when it skips: make sure it looked at the files.
	! grep -E "All targets skipped|Skipping sanity test" "$$work/sanity.log" || { echo "sanity: tests skipped"; exit 1; }
	grep -q 'Running sanity test "validate-modules"' "$$work/sanity.log" || { echo "sanity: validate-modules did not run"; exit 1; }
	echo "sanity: clean in $$(( $$(date +%s) - start ))s"

unit: setup
	pytest -q -n auto --dist loadfile tests/unit tests/conventions

molecule: lab
	set -a; . $(CACHE)/lab.env; set +a
	scenarios="$(if $(SCENARIO),$(SCENARIO),$(SCENARIOS))"
	: > $(TIMES).molecule
	for s in $$scenarios; do
	  start=$$(date +%s)
	  echo "=== molecule test -s $$s"
	  if molecule test -s $$s; then rc=0; else rc=$$?; fi
	  echo "$$s $$(( $$(date +%s) - start ))s rc=$$rc" | tee -a $(TIMES).molecule
	  [ $$rc -eq 0 ] || { echo "scenario $$s failed"; exit $$rc; }
	done
	echo "--- scenario wall times"; cat $(TIMES).molecule

# The lab (downloads, debootstrap, image and kit builds) and the unit tests (ansible-playbook
# runs on localhost) run beside lint and build, which saves minutes from a bare machine;
# their logs are shown when they end (the whole unit log when it fails).
test: setup
	start=$$(date +%s)
	lablog=$(CACHE)/lab.log
	unitlog=$(CACHE)/unit.log
	$(MAKE) --no-print-directory lab > "$$lablog" 2>&1 & lab=$$!
	$(MAKE) --no-print-directory unit > "$$unitlog" 2>&1 & unit=$$!
	trap 'echo "waiting for make lab and make unit to end"; wait $$lab $$unit || true' EXIT  # a failure above leaves no job behind
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory build
	if wait $$unit; then unitrc=0; else unitrc=$$?; fi
	echo "--- make unit (ran beside lint and build; whole log in $$unitlog)"
	if [ $$unitrc -ne 0 ]; then cat "$$unitlog"; echo "make unit failed (rc=$$unitrc)"; exit $$unitrc; fi
	tail -n 3 "$$unitlog"
	if wait $$lab; then labrc=0; else labrc=$$?; fi
	trap - EXIT
	echo "--- make lab (ran beside lint, unit and build; whole log in $$lablog)"
	if [ $$labrc -ne 0 ]; then tail -n 80 "$$lablog"; echo "make lab failed (rc=$$labrc)"; exit $$labrc; fi
	tail -n 12 "$$lablog"
	$(MAKE) --no-print-directory molecule
	echo "make test: all green in $$(( $$(date +%s) - start ))s"

# Build the collection tarball and prove it installs on its own (no Galaxy) and
# carries what a user needs: the roles, the plugins, the playbooks, no tests.
build: setup
	rm -rf build; mkdir -p build
	ansible-galaxy collection build --force --output-path build .
	ansible-galaxy collection install --offline --force -p $(TOP)/build/installed build/harbor-deploy-*.tar.gz 2>&1 | grep -v 'not part of the configured'
	tar -tzf build/harbor-deploy-*.tar.gz > build/contents.txt
	for f in roles/install/tasks/main.yml roles/docker/tasks/main.yml roles/host_prep/tasks/main.yml \
	         roles/bundle/tasks/main.yml plugins/modules/harbor_images.py playbooks/site.yml; do
	  grep -qx "$$f" build/contents.txt || { echo "build: $$f missing from the tarball"; exit 1; }
	done
	! grep -E '^(tests|molecule|\.cache|bench)/' build/contents.txt || { echo "build: test files shipped"; exit 1; }
	ANSIBLE_COLLECTIONS_PATH=$(TOP)/build/installed ansible-doc -t module harbor.deploy.harbor_health | grep -q 'Polls Harbor'
	echo "build: $$(ls build/harbor-deploy-*.tar.gz) ($$(wc -l < build/contents.txt) files) installs and documents"

changelog: setup
	antsibull-changelog lint

demo: lab
	tests/demo/run.sh

bench: lab
	bench/install.sh

bench-backup: lab
	bench/backup.sh

demo-clean:
	tests/demo/run.sh clean

clean:
	-for s in $(SCENARIOS); do molecule destroy -s $$s; done
	rm -rf build
