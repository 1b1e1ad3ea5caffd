"""Data access: the only package that talks to AWS (boto3 and PynamoDB live here and nowhere else).

Modules return domain records (omotenashi.domain) and raise the errors in `errors`, so logic never
sees an AWS type.
"""
