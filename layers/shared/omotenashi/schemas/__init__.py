"""Pydantic models: one module per area (request bodies and answers), `common` for shared field
types and the error body, `jobs` for the queue messages (a discriminated union)."""
