"""The one place that creates Logger, Metrics and Tracer.

Everything else imports these objects. Logs carry ids only: email addresses, names and message
bodies never go to a log line (tests/integration/test_logs.py checks it).
"""

import logging

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "omotenashi"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace="Omotenashi", service=SERVICE)
# Patch only botocore (our AWS calls): patching everything imports requests & co, ~30 ms of cold start.
tracer = Tracer(service=SERVICE, patch_modules=["botocore"])

# Powertools' BatchProcessor logs a failed record through a standard-library logger (it warns with
# the traceback); this one is the Logger's own, so the line carries the JSON format and the keys of
# the record being processed (correlation id, store, inquiry).
batch_logger = logging.getLogger(SERVICE)
