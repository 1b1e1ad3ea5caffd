"""Customer inquiries: intake, the auto-reply, staff replies, follow-ups and the first-response SLA."""
