"""The installed version of streamviz."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("streamviz")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "uninstalled"
