"""buzzline: a realistic stream of activity messages, real-time alerts on it, and a summary."""

__version__ = "0.1.0"
