"""Threat and mitigation catalogs: definitions, loading, schemas."""
