"""Syllabus: an API-first backend for online-learning platforms.

Authored content lives in MongoDB (``syllabus.content``); learner data lives in
PostgreSQL (``syllabus.identity``, ``catalog``, ``learning``, ``assessment``).
The two sides meet only through the stable content-id types in ``syllabus.kit.ids``.
"""

__version__ = "0.1.0"
