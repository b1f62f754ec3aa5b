"""One module per outside library (MLflow, Feast, Great Expectations, Evidently, ONNX, plots, git, HTTP)."""
