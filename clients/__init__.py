"""Device SDKs and the fleet simulator."""
