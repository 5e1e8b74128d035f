"""External methods: per-method subprocess adapters, the methods config, and the process runner."""
