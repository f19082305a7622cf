"""engagement: clean school exports and test how parent contact relates to completion."""

from engagement.config import Effects, SampleConfig
from engagement.schema import TABLES, ValidationError, validate

__all__ = ["TABLES", "Effects", "SampleConfig", "ValidationError", "validate"]
__version__ = "0.1.0"
