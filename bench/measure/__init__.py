"""One module per kind of measurement; each declares its rows and measures one hub (or proxy) at a time."""
