"""Scripts that run inside a method's own environment (never imported by the toolkit)."""
