"""Services: programs that use the hub's API with a token of their own, and may sign people in through it.

External services run on their own; managed ones (with a `command`) are started, restarted and stopped by the
hub. registry.py keeps their rows, tokens and OAuth clients; supervisor.py runs the managed processes.
"""
