"""The two hubs under test behind one interface, so every measurement is one piece of code run on both."""

from bench.hubs.base import Hub
from bench.hubs.commonroom import CommonroomHub
from bench.hubs.jupyterhub import JupyterHubHub

__all__ = ["CommonroomHub", "Hub", "JupyterHubHub"]
