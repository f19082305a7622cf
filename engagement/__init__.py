"""engagement: clean school exports and test how parent contact relates to completion."""

from engagement.accounting import CleaningReport
from engagement.actions import action_list
from engagement.config import Effects, SampleConfig
from engagement.dataset import Dataset, clean_folder, load
from engagement.results import Results, analyze
from engagement.schema import TABLES, ValidationError, validate

__all__ = ["TABLES", "CleaningReport", "Dataset", "Effects", "Results", "SampleConfig",
           "ValidationError", "action_list", "analyze", "clean_folder", "load", "validate"]
__version__ = "0.1.0"
