"""The base of every config section: unknown keys are errors, and values keep their YAML types.

    >>> class Section(Strict):
    ...     C: float = 1.0
    >>> Section(C=3).C
    3.0
"""

import re

from pydantic import BaseModel, ConfigDict

from vnzh_runtime.errors import UserError


# A plain name: a model's name, an encoder's (each a directory, and part of MLflow's names and keys)
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class ConfigError(UserError):
    """A config problem the user fixes in the YAML file or a --set flag."""


class Strict(BaseModel):
    # strict: "3" is not silently a number, 1 is not a bool; an int is still a fine float.
    # No setting means anything at infinity or NaN (.inf, .nan in YAML): C=.inf trains an unregularised model.
    model_config = ConfigDict(extra="forbid", strict=True, validate_default=True, allow_inf_nan=False)
