"""The MongoDB side: authored, versioned, read-mostly course content.

Documents use MongoDB only; the PostgreSQL side refers to content through the id types in
``syllabus.kit.ids`` and the functions of ``content.service``. Two places here do touch
PostgreSQL, on purpose and downwards: the read service asks the catalog who may see what
and ``access`` who may open it, and the loader syncs the catalog after writing content
(handing achievements up by hook, ``content.hooks``).
"""
