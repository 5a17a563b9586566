"""Queue names, in one place. `high` has its own worker group (see README)."""

HIGH = "high"
DEFAULT = "default"
LOW = "low"
ALL = (HIGH, DEFAULT, LOW)
