"""The MLflow adapter, the only package that imports MLflow: runs, registered versions, aliases,
verified loading. One module per concern, so each stays small."""
