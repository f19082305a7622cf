"""engagement: clean school exports and test how parent contact relates to completion."""

from engagement.accounting import CleaningReport
from engagement.actions import action_list
from engagement.config import Effects, SampleConfig
from engagement.dataset import Dataset, clean_folder, load
from engagement.explore import explore  # the function; its module: engagement.explore
from engagement.results import Results, analyze
from engagement.schema import TABLES, ValidationError, validate

__all__ = ["TABLES", "CleaningReport", "Dataset", "Effects", "Results", "SampleConfig",
           "ValidationError", "action_list", "analyze", "clean_folder", "explore", "load",
           "validate"]
__version__ = "0.1.0"
