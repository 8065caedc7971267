"""PostgreSQL side: quiz attempts and grading (whether a quiz is passed is ``progress``'s)."""
