"""HTTP plumbing shared by the API function: request guard, error bodies, resolver factory."""
