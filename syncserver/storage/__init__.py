"""SQL beside the tables it touches: projections, notices, users and tokens."""
