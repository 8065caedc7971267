"""The analysts' side of PostgreSQL: the ``analytics`` views (managed by Alembic, reading
``progress``'s rule views), the read-only role, refreshes and exports. The activity log's
writer is in the base (``db/activity.py``)."""
