"""HTTP handlers: decode, authorize, call the layer below, encode. No SQL here."""
