"""The figures the README states about the firewall model are the tool's own: a test fails when
the model or the catalogs change and the README does not."""

from __future__ import annotations

import re

from threatgraph import pipeline
from threatgraph.config import load_config

from .conftest import REPO


def test_readme_tour_figures_match_the_firewall_model():
    inputs = pipeline.load_inputs(load_config(REPO))
    tour = (REPO / "README.md").read_text(encoding="utf-8").split("## A tour", 1)[1].split("##", 1)[0]
    stated = {
        "boundaries": int(re.search(r"`zones.py` \((\d+) trust boundaries\)", tour).group(1)),
        "elements": int(re.search(r"`components.py` \((\d+) elements", tour).group(1)),
        "data": int(re.search(r"(\d+) data assets\)", tour).group(1)),
        "threats": int(re.search(r"\| `threats/` \| (\d+) threats", tour).group(1)),
        "mitigations": int(re.search(r"\| `mitigations/` \| (\d+) mitigations", tour).group(1)),
    }
    actual = {"boundaries": len(inputs.model.boundaries), "elements": len(inputs.model.elements),
              "data": len(inputs.model.data), "threats": len(inputs.catalog.threats),
              "mitigations": len(inputs.catalog.mitigations)}
    assert stated == actual
