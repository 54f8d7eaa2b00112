"""People's accounts as the API manages them: listing with filters, creating, renaming, deleting."""
