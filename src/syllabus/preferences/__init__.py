"""A learner's settings: interface language, voice and speech, goals, reminders."""
