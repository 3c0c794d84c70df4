"""Run a module's main() in-process and hand back its JSON result."""

import json

import pytest

from ansible.module_utils import _internal
from ansible.module_utils.common import warnings
from ansible.module_utils.testing import patch_module_args


@pytest.fixture
def run_module(capsys, monkeypatch):
    """run_module(module, args, check_mode=False) -> (failed, result dict)."""
    # Once any controller code was imported in this pytest process (the filter tests do),
    # module warnings would go to the controller's display instead of the result.
    monkeypatch.setattr(_internal, "is_controller", False)

    def run(module, args, check_mode=False):
        args = dict(args, _ansible_check_mode=check_mode)
        warnings._global_warnings.clear()  # pylint: disable=protected-access
        with patch_module_args(args), pytest.raises(SystemExit) as exited:
            module.main()
        result = json.loads(capsys.readouterr().out)
        assert bool(exited.value.code) == bool(result.get("failed")), result
        return bool(result.get("failed")), result

    return run
