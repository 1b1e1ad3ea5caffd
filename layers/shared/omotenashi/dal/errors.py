"""Errors raised by data access. All of them mean "the AWS call failed"; retrying may help."""


class DataAccessError(RuntimeError):
    """An AWS call failed. The message names the operation, never the data."""


class StorageError(DataAccessError):
    pass


class QueueError(DataAccessError):
    pass


class MailerError(DataAccessError):
    pass
