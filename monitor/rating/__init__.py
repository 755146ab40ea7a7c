"""Ratings: methodology files, the vectorised scoring engine, explanations and stability.

Pure functions over frames: they never fetch and never print. ``monitor.pipeline`` feeds them
observations from the store and stores what they return.
"""

from monitor.rating.core import RatingResult, RatingRun
from monitor.rating.engine import score
from monitor.rating.methodology import Methodology, load_methodologies, load_methodology

__all__ = [
    "Methodology",
    "RatingResult",
    "RatingRun",
    "load_methodologies",
    "load_methodology",
    "score",
]
