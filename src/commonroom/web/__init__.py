"""HTTP plumbing shared by the API and the pages: who is calling, sessions, CSRF, the error shape."""
