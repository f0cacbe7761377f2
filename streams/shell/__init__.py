"""Imperative shell: the Faust app, its agents and the worker process."""
