"""The analysts' side of PostgreSQL: the activity log writer, the ``analytics`` views
(managed by Alembic), the read-only role, and exports."""
