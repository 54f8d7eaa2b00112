"""Commonroom: a multi-user notebook hub that speaks JupyterHub's REST API and single-user protocol."""

__version__ = "0.1.0"

# The JupyterHub version whose wire protocol we speak; sent as X-JupyterHub-Version so stock clients
# and single-user servers do not warn about a mismatch.
JUPYTERHUB_COMPAT_VERSION = "6.1.1"
