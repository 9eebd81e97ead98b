"""Serving: batch tagging (`python -m serve tag`) and the HTTP API (`python -m serve api`)."""
