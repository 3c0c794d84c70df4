"""Make ``ansible_collections.harbor.deploy`` importable in plain pytest.

`make setup` links .cache/collections/ansible_collections/harbor/deploy to the repo;
this file puts .cache/collections on sys.path (creating the link if it is missing)
and exports ANSIBLE_COLLECTIONS_PATH for the tests that run Ansible itself.
"""

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / ".cache" / "collections"
LINK = COLLECTIONS / "ansible_collections" / "harbor" / "deploy"

if not LINK.exists():
    LINK.parent.mkdir(parents=True, exist_ok=True)
    LINK.symlink_to(REPO, target_is_directory=True)

if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))
os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", str(COLLECTIONS))
