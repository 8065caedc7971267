"""Small shared building blocks with no knowledge of either store."""
