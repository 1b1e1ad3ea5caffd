"""Storefront events: stored first by the API (ingest), applied by the event worker (dispatch)."""
