"""Loyalty points: a ledger per customer (pure arithmetic in ledger.py and tiers.py, orchestrated
by accounts.py and sweep.py; data access in dal/loyalty.py)."""
