"""PostgreSQL side: accounts, roles and refresh tokens."""
