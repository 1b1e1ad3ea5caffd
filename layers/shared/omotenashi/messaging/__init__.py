"""Rendering customer and staff messages: templates, dates in the reader's language, MIME."""
