"""The unit circle, centred on the origin."""

from shapes.circle import Circle
from shapes.geometry import Point


class UnitCircle(Circle):
    def __init__(self):
        super().__init__(Point(0.0, 0.0), 1.0)
        self.label = "unit circle"
