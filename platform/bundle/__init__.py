"""The config language: loading, validating and compiling a bundle (README.md)."""
