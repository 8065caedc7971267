"""Homework: learners' submissions to practices (text, code, links and files in GridFS),
their statuses and versions, and the teachers' review queue."""
