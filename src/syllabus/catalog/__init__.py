"""PostgreSQL side: categories, tracks and the course catalog card."""
