"""pipelines shell."""
