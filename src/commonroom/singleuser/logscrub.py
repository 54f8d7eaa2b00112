"""Keep tokens and OAuth codes out of tornado's own log lines.

jupyter_server scrubs secrets from its access log, but when a handler raises an HTTPError with a message,
tornado logs the raw request line first ("403 GET /user/a/api/contents?token=...: Not signed in"). Our sign-in
errors carry such messages, and a refused request is exactly the one whose URL may hold a token a person
pasted there, so tornado's loggers get a filter that masks the values of the sensitive query parameters.
"""

from __future__ import annotations

import logging
import re

_SECRET_PARAM = re.compile(r"([?&](?:token|code|state)=)[^&\s]*", re.IGNORECASE)
TORNADO_LOGGERS = ("tornado.general", "tornado.application")


def scrub(text: str) -> str:
    return _SECRET_PARAM.sub(r"\1[secret]", text)


class ScrubSecrets(logging.Filter):
    """Masks token, code and state query values in a record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


def install() -> None:
    for name in TORNADO_LOGGERS:
        logging.getLogger(name).addFilter(ScrubSecrets())
