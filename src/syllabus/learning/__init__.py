"""PostgreSQL side: enrollments and lesson progress."""
