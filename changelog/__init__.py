"""Device logs, the commit clock, hybrid logical clocks and pull cursors."""
