"""Helpers shared by the tests (C simulation of hls4ml models, cached per session)."""
