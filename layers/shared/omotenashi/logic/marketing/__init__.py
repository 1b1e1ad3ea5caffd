"""Marketing email: the one gate every marketing email of every flow passes (gate.py, pure), then
consent, unsubscribe, the one marketing send path and the flows (abandoned-cart reminders first)."""
