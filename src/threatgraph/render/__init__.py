"""Renderers: pure functions from an Assessment to text in one output format."""
