"""Runnable solutions to the notebook exercises, run by tests/test_solutions.py."""
