"""parkmon — performance monitor of a city's innovation carriers (南通科创载体绩效监测).

The core package: settings, data model, store, registry, ratings, goals, pipeline and CLI.
"""

__version__ = "0.1.0"
