"""Reviews: requests after delivery and their reminder (requests.py), review and survey events
(apply.py), rewards that never depend on the rating (rewards.py), signed review links (tokens.py);
data access in dal/reviews.py."""
