"""PostgreSQL side: who may open paid content, and take a course's quizzes, now.

The one place that answers it (DECISIONS 4): lessons, quizzes and attempts ask here.
Today's rule reads enrollments in SQL; payments will put entitlements behind it.
"""
