"""``syllabus content load``: author files → validated bundle → MongoDB + PostgreSQL.

parse (files → located data) → formats (one strict schema per file kind) → build (each
valid file's storage document, hashed and kept only as BSON, so a load holds the
documents rather than every file's parsed forms) → validate (the whole folder: ids,
references, rules) → build (course documents, catalog rows) → load (diff, versioned
writes to MongoDB in one transaction, sent in bounded batches, then the PostgreSQL
catalog) → report.
"""
