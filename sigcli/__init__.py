"""sigcli: see what Django-style model signals really do.

Importing the package stays cheap, so that ``sigcli --help`` answers fast:
``Signal``, ``receiver``, ``step``, ``capture`` and ``mute`` load on first use.
"""

from typing import Any

__version__ = "0.1.0"
__all__ = ["Signal", "receiver", "step", "capture", "mute", "__version__"]

_LAZY = {
    "Signal": "sigcli.dispatcher",
    "receiver": "sigcli.dispatcher",
    "step": "sigcli.scenario",
    "capture": "sigcli.recorder",
    "mute": "sigcli.muting",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'sigcli' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)
