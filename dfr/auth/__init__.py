"""Who may do what: bearer tokens and the roles they carry (no HTTP here)."""
