"""Competencies: the framework authors write (competencies.json), each learner's mastery
of it moved by graded work, and the feedback tickets their mistakes open."""
