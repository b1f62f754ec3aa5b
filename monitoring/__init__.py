"""monitoring shell."""
