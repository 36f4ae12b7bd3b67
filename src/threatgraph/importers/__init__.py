"""Importers: models and catalogs brought in from other tools' files (Open Threat Model), written
as a readable pytm model file and threatgraph catalogs (see `base` for what every importer
shares, `otm` for the format)."""
