"""Secrets in request lines are masked before tornado logs them."""

from __future__ import annotations

import logging

import pytest

from commonroom.singleuser.logscrub import ScrubSecrets, scrub


def test_token_code_and_state_are_masked() -> None:
    line = "403 GET /user/a/oauth_callback?code=abc&state=xyz&next=/lab (1.2.3.4): no; /api?Token=t0k"
    assert scrub(line) == (
        "403 GET /user/a/oauth_callback?code=[secret]&state=[secret]&next=/lab (1.2.3.4): no; /api?Token=[secret]"
    )


def test_the_filter_rewrites_formatted_records(caplog: pytest.LogCaptureFixture) -> None:
    logger, scrubber = logging.getLogger("test-logscrub"), ScrubSecrets()
    logger.addFilter(scrubber)
    try:
        with caplog.at_level(logging.WARNING, logger="test-logscrub"):
            logger.warning("%d %s: %s", 403, "GET /api?token=s3cret (127.0.0.1)", "Not signed in")
    finally:
        logger.removeFilter(scrubber)
    assert caplog.messages == ["403 GET /api?token=[secret] (127.0.0.1): Not signed in"]
