"""threatgraph: threat models as code, with coverage checked against the target's own source."""

__version__ = "0.2.0"  # the one version source (pyproject.toml reads it); see CHANGELOG.md
