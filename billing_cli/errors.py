class BillingError(Exception):
    """A domain error with a message meant for the user (the CLI shows it without a traceback)."""
