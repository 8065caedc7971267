"""PostgreSQL side: quiz attempts and achievements."""
