"""Mesa's core (``Agent``, ``Model``, ``DataCollector``) without the rest of the package at import.

``import mesa`` runs the package's ``__init__``, which also imports its batch runner
(multiprocessing, tqdm), its spaces (networkx), its experimental modules (scipy.spatial)
and its discrete spaces: about half a second, and more than a small run's simulation,
though the model uses none of them. ``mesa()`` registers the package without running
its ``__init__``, imports the three core modules, and runs the ``__init__`` the first
time anything else is asked of the package (``mesa.space``, ``mesa.batch_run``,
``mesa.__version__``), so code that imports Mesa in full afterwards sees the usual package.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import sys
from types import ModuleType

CORE = ("agent", "model", "datacollection")


def mesa() -> ModuleType:
    """The ``mesa`` package with ``Agent``, ``Model``, ``DataCollector`` and ``agent`` loaded."""
    pkg = sys.modules.get("mesa")
    if pkg is None:
        pkg = _register_package()
    if "DataCollector" not in pkg.__dict__:  # registered here and not yet initialised in full
        with _cheap_frames():
            for name in CORE:
                setattr(pkg, name, importlib.import_module(f"mesa.{name}"))
        pkg.Agent = pkg.agent.Agent
        pkg.Model = pkg.model.Model
        pkg.DataCollector = pkg.datacollection.DataCollector
    return pkg


@contextlib.contextmanager
def _cheap_frames():
    """While Mesa's core is imported, its logging helpers see the frames without their source.

    ``mesa.mesa_logging`` names loggers at import from ``inspect.stack()`` and
    ``inspect.getouterframes``, which read the source file of every frame on the stack
    and search every loaded module for it: a tenth of a second of a small run. They use
    only the caller's frame, function and module, which ``_Frames`` gives without reading
    anything; the loggers get the same names.
    """
    logging_module = importlib.import_module("mesa.mesa_logging")
    real = getattr(logging_module, "inspect", None)
    if real is not inspect:  # another Mesa: leave it alone
        yield
        return
    logging_module.inspect = _Frames
    try:
        yield
    finally:
        logging_module.inspect = real


class _Frames:
    """The part of ``inspect`` that ``mesa.mesa_logging`` uses, without source lookups."""

    currentframe = staticmethod(inspect.currentframe)

    @staticmethod
    def getouterframes(frame, context: int = 1) -> list[tuple]:
        out = []
        while frame is not None:
            out.append((frame, frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name, None, None))
            frame = frame.f_back
        return out

    @staticmethod
    def stack(context: int = 1) -> list[tuple]:
        return _Frames.getouterframes(sys._getframe(1))

    @staticmethod
    def getmodule(obj, _filename=None):
        if inspect.isframe(obj):
            return sys.modules.get(obj.f_globals.get("__name__"))
        return inspect.getmodule(obj, _filename)


def _register_package() -> ModuleType:
    spec = importlib.util.find_spec("mesa")
    pkg = importlib.util.module_from_spec(spec)
    sys.modules["mesa"] = pkg

    def complete(name: str):
        """Run the package's own ``__init__`` once, then answer as it would."""
        del pkg.__getattr__
        try:
            spec.loader.exec_module(pkg)
        except BaseException:
            pkg.__getattr__ = complete
            raise
        try:
            return pkg.__dict__[name]
        except KeyError:
            raise AttributeError(f"module 'mesa' has no attribute {name!r}") from None

    pkg.__getattr__ = complete
    return pkg
