"""Circles."""

import math

from shapes import geometry
from .base import Shape


class Circle(Shape):
    kind = "circle"

    def __init__(self, origin: geometry.Point, radius: float):
        super().__init__(origin, label="circle")
        self.radius = radius

    def area(self) -> float:
        return math.pi * self.radius ** 2

    def contains(self, point: geometry.Point) -> bool:
        return self.origin.distance_to(point) <= self.radius
