"""sigcli: see what Django-style model signals really do.

Importing the package stays cheap: the dispatcher is stdlib-only, and the
scenario helpers (``step``, ``capture``) load on first use.
"""

from typing import Any

from sigcli.dispatcher import Signal, receiver

__version__ = "0.1.0"
__all__ = ["Signal", "receiver", "step", "capture", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "step":
        from sigcli.scenario import step

        return step
    if name == "capture":
        from sigcli.trace import capture

        return capture
    raise AttributeError(f"module 'sigcli' has no attribute {name!r}")
