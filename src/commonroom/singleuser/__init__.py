"""Commonroom's single-user server: jupyter_server and JupyterLab, signed in and watched over by the hub.

`python -m commonroom.singleuser` (or `commonroom-singleuser`) is what a spawner runs. This package is also
the jupyter_server extension that launch enables; it is kept import-free so that starting is fast.
"""

from __future__ import annotations


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "commonroom.singleuser.extension"}]
