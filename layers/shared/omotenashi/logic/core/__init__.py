"""Building blocks every capability shares: idempotency, exactly-once delivery, rate limits,
calendars, request signing, addresses, and the domain errors the API maps to answers."""
