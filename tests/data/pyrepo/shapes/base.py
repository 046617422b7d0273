"""The abstract shape every concrete shape derives from."""

from abc import ABC, abstractmethod

from shapes.geometry import Point


class Shape(ABC):
    kind = "shape"

    def __init__(self, origin: Point, label: str = ""):
        self.origin = origin
        self.label = label or self.kind

    @abstractmethod
    def area(self) -> float:
        """The area of the shape."""

    def describe(self) -> str:
        return f"{self.label} at ({self.origin.x}, {self.origin.y})"
