"""zsc: a polling Slack <-> Zendesk support bridge."""

__version__ = "0.1.0"
