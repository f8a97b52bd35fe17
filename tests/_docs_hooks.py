"""`docs/hooks.py` (the site's build hooks) as a module, for the tests of what the docs promise."""

import importlib.util
import pathlib

_PATH = pathlib.Path(__file__).parent.parent / "docs" / "hooks.py"
_spec = importlib.util.spec_from_file_location("jaxcollapse_docs_hooks", _PATH)
hooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hooks)
