"""The MongoDB side: authored, versioned, read-mostly course content.

Documents and the read service use MongoDB only; the PostgreSQL side refers to content
through the id types in ``syllabus.kit.ids`` and the functions of ``content.service``.
Two places here do touch PostgreSQL, on purpose: the router asks the catalog who may see
what, and the loader syncs the catalog after writing content.
"""
