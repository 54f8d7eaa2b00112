"""The launcher ("zygote"): one process that has imported the single-user server once, and forks a server for
each spawn, so a start costs a fork instead of ~2 s of imports.

The hub starts it (as root when the hub is root) and talks to it over a unix socket in the hub's data dir.
A forked child becomes the person's server exactly as a Popen'd one would: a session of its own, the account's
uid and groups only, the home as working directory, the log as output, nothing open of the launcher's and only
the environment the hub computed. That environment (with the server's API token) goes from the hub straight
to the child, never through the launcher, so no person's secret is ever in the memory the next child inherits.
"""
