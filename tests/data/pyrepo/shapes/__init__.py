"""Shapes: a tiny geometry package."""

from .base import Shape
from .circle import Circle
from .square import Square

__all__ = ["Shape", "Circle", "Square"]
