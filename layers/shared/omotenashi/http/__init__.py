"""HTTP plumbing of the API function: request guard, resolver factory, error mapping, OpenAPI
metadata and one Router per area (routes/). Importing this package has no side effect; the API
module calls coldstart.begin() and coldstart.complete() explicitly."""
