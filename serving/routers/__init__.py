"""One router per concern: predictions, feedback, health and model, admin."""
