"""Helpers over collections of shapes."""

from shapes.base import Shape


def total_area(shapes: list[Shape]) -> float:
    return sum(shape.area() for shape in shapes)


def by_kind(shapes: list[Shape]) -> dict[str, list[Shape]]:
    groups: dict[str, list[Shape]] = {}
    for shape in shapes:
        groups.setdefault(shape.kind, []).append(shape)
    return groups
