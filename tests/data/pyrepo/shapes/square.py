"""Squares."""

from shapes import geometry
from .base import Shape


class Square(Shape):
    kind = "square"

    def __init__(self, origin: geometry.Point, side: float):
        super().__init__(origin)
        self.side = side

    def area(self) -> float:
        return self.side * self.side

    def corners(self) -> list[geometry.Point]:
        x, y, s = self.origin.x, self.origin.y, self.side
        return [geometry.Point(x, y), geometry.Point(x + s, y + s)]
