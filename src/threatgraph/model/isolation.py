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


class _Isolation:
    """Fresh pytm state, private module names, restored sys.path and sys.modules."""

    def __enter__(self) -> _Isolation:
        from pytm.tm import TM

        self.TM = TM
        self.saved_state = TM._state
        TM.reset()
        self.saved_init = TM.__dict__.get("_init_threats")  # absent in another pytm version: nothing to skip
        if self.saved_init is not None:
            type.__setattr__(TM, "_init_threats", _skip_threat_library)
        self.saved_modules = set(sys.modules)
        self.saved_path = list(sys.path)
        return self

    def new_modules(self) -> list[ModuleType]:
        return [m for name, m in list(sys.modules.items()) if name not in self.saved_modules and m]

    def __exit__(self, *exc: object) -> None:
        for name in [n for n in sys.modules if n not in self.saved_modules]:
            del sys.modules[name]
        sys.path[:] = self.saved_path
        type.__setattr__(self.TM, "_state", self.saved_state)
        if self.saved_init is not None:
            type.__setattr__(self.TM, "_init_threats", self.saved_init)


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
        pkg_spec.loader.exec_module(pkg)
        if path.name == "__init__.py":
            return pkg
        return importlib.import_module(f"{token}.{path.stem}")
    spec = importlib.util.spec_from_file_location(token, path)
    if spec is None or spec.loader is None:
        raise InputError([Problem(str(path), 1, 1, "the model file cannot be imported")])
    module = importlib.util.module_from_spec(spec)
    sys.modules[token] = module
    sys.path.insert(0, str(folder))
    spec.loader.exec_module(module)
    return module
