"""Adapters: the product's ports to the outside (dead-letter topic, metrics, Redis, HTTP)."""
