"""The Fieldsync sync server."""
