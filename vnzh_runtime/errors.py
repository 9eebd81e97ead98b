"""The one exception type the CLIs turn into a single line on stderr (no traceback)."""


class UserError(Exception):
    """Something the user fixes: a config key, a data line, a missing model. The message names the fix."""
