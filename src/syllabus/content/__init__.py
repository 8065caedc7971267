"""The MongoDB side: authored, versioned, read-mostly course content.

Nothing in this package imports from the PostgreSQL domains; they refer to content only
through the id types in ``syllabus.kit.ids``.
"""
