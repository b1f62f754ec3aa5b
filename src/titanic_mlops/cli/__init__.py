"""The `titanic-mlops` command: one module per group of commands, each parser beside its handler."""
