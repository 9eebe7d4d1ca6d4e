"""Entity and op definitions, wire shapes, tables and migrations."""
