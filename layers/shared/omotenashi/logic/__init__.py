"""Business logic: pure decisions plus calls into omotenashi.dal. No boto3 or PynamoDB here."""
