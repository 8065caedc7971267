"""Timed exams (docs/exams.md): attempts with a drawn variant and a server-owned deadline,
an append-only answer log, a sealed answer sheet, auto grading by assessment's rules,
expert grading of part 2 by teachers, the primary → test scale, and regrades."""
