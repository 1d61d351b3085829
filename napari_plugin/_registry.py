"""Live sessions by id, so that the writer can save a running session.

The widget registers its explorer and tags the layers it draws with the id
(``layer.metadata['curiosity_session']``); napari hands a writer only layer
data, and the id leads from those back to the explorer. The registry holds
its entries weakly: a session the widget has dropped is gone from here too.
"""

from __future__ import annotations

import queue
import threading
import uuid
import weakref
from dataclasses import dataclass, field

SESSION_KEY = "curiosity_session"

_LIVE: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


@dataclass(eq=False)
class LiveSession:
    """An explorer, the lock that keeps saving and stepping apart, and the
    queue of operator points waiting to be measured between steps."""

    explorer: object
    key: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    lock: threading.Lock = field(default_factory=threading.Lock)
    operator: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)


def register(explorer) -> LiveSession:
    """Register an explorer; the caller keeps the returned handle alive."""
    session = LiveSession(explorer)
    _LIVE[session.key] = session
    return session


def lookup(key: str | None) -> LiveSession | None:
    """The live session of an id, or ``None``."""
    return _LIVE.get(key) if key else None
