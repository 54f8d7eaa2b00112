"""Server lifecycle as a service, independent of HTTP: start, stop, watch, re-attach, and keep routes right."""
