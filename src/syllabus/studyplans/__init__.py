"""Study plans: a learner's remaining work in a course (or for an exam) laid out on the
days before a target date, weakest competencies first; regenerated as new versions."""
