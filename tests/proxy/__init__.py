"""Tests of the configurable-http-proxy compatible proxy (src/commonroom/proxy)."""
