"""serving shell."""
