"""Print a report of a few sample shapes."""

import sys

from shapes import Circle, Square
from shapes.geometry import Point
from shapes.shape_render import ShapeRenderer


def sample_shapes() -> list:
    origin = Point(0.0, 0.0)
    return [Circle(origin, 2.0), Square(origin, 3.0)]


def main(argv: list[str]) -> int:
    width = int(argv[1]) if len(argv) > 1 else 40
    print(ShapeRenderer(width).render(sample_shapes()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
