"""The local stack: the SAM template's resources on an embedded moto server, the same handler code
behind a local HTTP server, SQS pollers and a scheduler. Development and test tooling only: it is
not part of the Lambda layer."""
