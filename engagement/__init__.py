"""engagement: clean school exports and test how parent contact relates to completion.

The names below are imported when first used, so that a command or the report's kernel
loads only the stages it needs (the readers and their schemas alone take a second and a
half).
"""

from importlib import import_module

_WHERE = {
    "CleaningReport": "engagement.accounting", "action_list": "engagement.actions",
    "Effects": "engagement.config", "SampleConfig": "engagement.config",
    "Dataset": "engagement.dataset", "clean_folder": "engagement.dataset",
    "load": "engagement.dataset", "explore": "engagement.explorer",
    "Results": "engagement.results", "analyze": "engagement.results",
    "TABLES": "engagement.schema", "ValidationError": "engagement.schema",
    "validate": "engagement.schema",
}

__all__ = sorted(_WHERE)
__version__ = "0.1.0"


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'engagement' has no attribute {name!r}")
    value = getattr(import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])
