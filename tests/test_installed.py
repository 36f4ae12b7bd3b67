"""installed.version against its oracle, importlib.metadata, on every distribution of this
environment and on planted metadata folders."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from threatgraph import installed


def test_every_installed_distribution_has_the_version_importlib_metadata_reports() -> None:
    names = sorted({d.metadata["Name"] for d in metadata.distributions() if d.metadata["Name"]})
    assert len(names) > 20  # this environment: pytm, pydantic, mkdocs, ...
    for name in names:
        assert installed.version(name) == metadata.version(name), name
        # the other spellings of one name find it too (PEP 503)
        assert installed.version(name.upper().replace("-", "_")) == metadata.version(name), name


def test_a_name_not_installed_is_none() -> None:
    assert installed.version("threatgraph-no-such-distribution") is None


def test_distributions_lists_the_folders_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "alpha_beta-1.2.3.dist-info").mkdir()
    (tmp_path / "gamma.egg-info").mkdir()
    (tmp_path / "not-metadata").mkdir()
    monkeypatch.setattr(sys, "path", [str(tmp_path), str(tmp_path / "missing")])
    assert installed.distributions() == ["alpha_beta-1.2.3.dist-info", "gamma.egg-info"]
    assert installed.version("Alpha.Beta") == "1.2.3"


def test_the_first_on_the_path_wins_as_in_importlib_metadata(tmp_path: Path) -> None:
    for folder, ver in (("first", "2.0"), ("second", "1.0")):
        meta = tmp_path / folder / f"planted_dist-{ver}.dist-info"
        meta.mkdir(parents=True)
        (meta / "METADATA").write_text(f"Metadata-Version: 2.1\nName: planted-dist\nVersion: {ver}\n", encoding="utf-8")
    code = ("import sys; from importlib import metadata; from threatgraph import installed; "
            "print(installed.version('planted-dist'), metadata.version('planted-dist'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": f"{tmp_path / 'first'}:{tmp_path / 'second'}:{Path(installed.__file__).parents[1]}"})
    assert out.stdout.split() == ["2.0", "2.0"]


def test_a_folder_without_a_version_in_its_name_is_read_from_its_metadata(tmp_path: Path) -> None:
    meta = tmp_path / "unversioned_dist.egg-info"
    meta.mkdir()
    (meta / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: unversioned-dist\nVersion: 0.7\n", encoding="utf-8")
    code = "from threatgraph import installed; print(installed.version('unversioned-dist'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": f"{tmp_path}:{Path(installed.__file__).parents[1]}"})
    assert out.stdout.strip() == "0.7"
