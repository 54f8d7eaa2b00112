"""A service written against jupyterhub's own client code (jupyterhub.services.auth, from the stock venv):
people sign in to it through the hub's OAuth, and it answers who they are. Run by that venv's python, as a
managed service; it listens at JUPYTERHUB_SERVICE_URL and serves under JUPYTERHUB_SERVICE_PREFIX."""

import json
import os
import secrets
from urllib.parse import urlsplit

from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
from tornado.ioloop import IOLoop
from tornado.web import Application, RequestHandler, authenticated


class WhoAmI(HubOAuthenticated, RequestHandler):
    @authenticated
    def get(self):
        self.set_header("Content-Type", "application/json")
        self.write(json.dumps(self.get_current_user()))


def main():
    prefix = os.environ["JUPYTERHUB_SERVICE_PREFIX"]
    app = Application(
        [(prefix, WhoAmI), (prefix + "oauth_callback", HubOAuthCallbackHandler)],
        cookie_secret=secrets.token_bytes(32),
    )
    url = urlsplit(os.environ["JUPYTERHUB_SERVICE_URL"])
    app.listen(url.port, url.hostname)
    print("stock whoami service listening on", url.netloc, flush=True)
    IOLoop.current().start()


if __name__ == "__main__":
    main()
