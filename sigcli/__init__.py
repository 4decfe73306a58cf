"""sigcli: see what Django-style model signals really do.

Importing the package stays cheap, so that ``sigcli --help`` answers fast:
``Signal``, ``receiver``, ``step``, ``capture``, ``mute`` and the trace's
types (``Trace``, ``Dispatch``, ``ReceiverCall``...) load on first use.
"""

from typing import Any

__version__ = "0.1.0"
_TRACE_TYPES = (
    "Trace",
    "Step",
    "Dispatch",
    "ReceiverCall",
    "Operation",
    "SqlStatement",
    "Output",
    "SkipReason",
)

__all__ = ["Signal", "receiver", "step", "capture", "mute", *_TRACE_TYPES, "__version__"]

_LAZY = {
    "Signal": "sigcli.dispatcher",
    "receiver": "sigcli.dispatcher",
    "step": "sigcli.scenariofile",
    "capture": "sigcli.testing",
    "mute": "sigcli.muting",
    **dict.fromkeys(_TRACE_TYPES, "sigcli.trace"),
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'sigcli' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)
