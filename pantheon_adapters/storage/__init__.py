"""Blob stores: a local directory (the embedded default) and an S3-compatible bucket."""
