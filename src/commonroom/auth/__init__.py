"""Who is asking, and what may they do: authenticators, sessions, tokens, scopes and throttling."""
