"""What a run looks like, computed from its rows (dashboard_model) and shown on a terminal (progress)."""
