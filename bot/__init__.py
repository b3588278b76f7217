"""Wiring, configuration and the command line: `python -m bot --help`."""
