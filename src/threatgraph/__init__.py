"""threatgraph: threat models as code, with coverage checked against the target's own source."""

__version__ = "0.1.0"
