"""Browser workbench: a local web page over the same library the command line uses.

* :class:`Workbench` drives one project: state as JSON, objects, prompts with an
  immediate mask on the clicked view, SAM 2 candidates for a first click, tracking as
  a background job with progress events, drift list and export.
* :func:`create_app` wraps it in a Starlette (ASGI) application; ``multiview ui``
  serves it with uvicorn on 127.0.0.1.
"""

from .app import create_app
from .events import EventBus
from .jobs import JobBusyError, JobRunner
from .workbench import Workbench

__all__ = ["EventBus", "JobBusyError", "JobRunner", "Workbench", "create_app"]
