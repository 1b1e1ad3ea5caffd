"""Omotenashi: serverless customer communication for e-commerce stores."""

__version__ = "0.1.0"
