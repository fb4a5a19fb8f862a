"""Reusable constructs; the stacks in ``backend.infra.stacks`` only compose these."""
