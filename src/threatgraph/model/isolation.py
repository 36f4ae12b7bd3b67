"""A fresh pytm state for each load, and the model file imported under a private name, with
sys.path, sys.modules and pytm's class-level registry restored afterwards: two models loaded in
one process (a diff, a test) never see each other's elements."""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from threatgraph.errors import InputError, Problem

_counter = itertools.count()


def _skip_threat_library(tm: Any) -> None:
    """Stands in for TM._init_threats while a model loads: pytm's constructor otherwise reads
    and compiles its own threat library (100+ Python conditions) on every TM(...), and
    threatgraph never evaluates it: its threats come from the YAML catalogs."""


# pytm's command-line workflow and renderers, which a model file in pytm's documented form calls
# at module level (`tm.process()`): while threatgraph loads the model they do nothing, so pytm
# neither parses threatgraph's command line nor mutates the model with its defaults, and its
# report (which deep-copies the graph per finding) never runs.
_CLI_METHODS = ("process", "report", "dfd", "seq")


def _cli_stub(self: Any, *args: Any, **kwargs: Any) -> str:
    return ""


class _Isolation:
    """Fresh pytm state, private module names, restored sys.path, sys.modules and sys.argv,
    pytm's command-line workflow stubbed out."""

    def __init__(self, argv0: str = "model.py") -> None:
        self.argv0 = argv0

    def __enter__(self) -> _Isolation:
        from pytm.tm import TM

        self.TM = TM
        self.saved_state = TM._state
        TM.reset()
        self.saved_methods = {name: TM.__dict__[name] for name in ("_init_threats", *_CLI_METHODS)
                              if name in TM.__dict__}  # absent in another pytm version: nothing to stub
        for name in self.saved_methods:
            type.__setattr__(TM, name, _skip_threat_library if name == "_init_threats" else _cli_stub)
        self.saved_modules = set(sys.modules)
        self.saved_path = list(sys.path)
        self.saved_argv = sys.argv
        sys.argv = [self.argv0]  # argparse in the model (or pytm) sees only the model's path
        return self

    def new_modules(self) -> list[ModuleType]:
        return [m for name, m in list(sys.modules.items()) if name not in self.saved_modules and m]

    def __exit__(self, *exc: object) -> None:
        for name in [n for n in sys.modules if n not in self.saved_modules]:
            del sys.modules[name]
        sys.path[:] = self.saved_path
        sys.argv = self.saved_argv
        type.__setattr__(self.TM, "_state", self.saved_state)
        for name, method in self.saved_methods.items():
            type.__setattr__(self.TM, name, method)


def _exec(module: ModuleType, loader: Any) -> None:
    """Run a module's code; a model that ends with `sys.exit()` or `sys.exit(0)` (a script that
    also runs pytm's command line) has finished declaring, so that exit is not an error."""
    try:
        loader.exec_module(module)
    except SystemExit as exc:
        if exc.code not in (None, 0):
            raise


def _import_file(path: Path) -> ModuleType:
    """Import `path` under a private name; as a package member when its folder is a package."""
    token = f"_threatgraph_model_{next(_counter)}"
    folder = path.parent
    if (folder / "__init__.py").exists():
        pkg_spec = importlib.util.spec_from_file_location(
            token, folder / "__init__.py", submodule_search_locations=[str(folder)])
        if pkg_spec is None or pkg_spec.loader is None:
            raise InputError([Problem(str(path), 1, 1, "the model's package cannot be imported")])
        pkg = importlib.util.module_from_spec(pkg_spec)
        sys.modules[token] = pkg
        _exec(pkg, pkg_spec.loader)
        if path.name == "__init__.py":
            return pkg
        name = f"{token}.{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
    else:
        name = token
        spec = importlib.util.spec_from_file_location(token, path)
        sys.path.insert(0, str(folder))
    if spec is None or spec.loader is None:
        raise InputError([Problem(str(path), 1, 1, "the model file cannot be imported")])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    _exec(module, spec.loader)
    return module
