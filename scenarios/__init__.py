"""Scenarios shipped with sigcli: run one with ``sigcli run NAME``."""
