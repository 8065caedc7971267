"""``syllabus content load``: author files → validated bundle → MongoDB + PostgreSQL.

parse (files → located data) → formats (one strict schema per file kind) → validate
(the whole folder: ids, references, rules) → build (storage documents with hashes) →
load (diff, versioned writes to MongoDB, then the PostgreSQL catalog) → report.
"""
