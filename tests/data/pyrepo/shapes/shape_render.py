"""Text rendering of shapes."""

from shapes.base import Shape
from shapes.shape_utils import total_area

HEADER = "== shapes =="


class ShapeRenderer:
    indent = "  "

    def __init__(self, width: int = 40):
        self.width = width

    def render(self, shapes: list[Shape]) -> str:
        lines = [HEADER.center(self.width)]
        for shape in shapes:
            lines.append(self.indent + shape.describe())
        lines.append(f"total area: {total_area(shapes):.2f}")
        return "\n".join(lines)
