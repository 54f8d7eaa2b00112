"""Sharing a server with other people: shares (to a user or a group) and share codes (links to accept one)."""
