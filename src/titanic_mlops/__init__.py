"""titanic_mlops: the domain core."""
