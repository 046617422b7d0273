package com.acme.shapes;

import java.util.Locale;

public class Circle extends Shape implements Comparable<Circle> {
    private final double radius;

    public Circle(double radius) {
        super("circle");
        this.radius = radius;
    }

    @Override
    public double area() {
        return Math.PI * radius * radius;
    }

    @Override
    public int compareTo(Circle other) {
        return Double.compare(radius, other.radius);
    }

    public String format() {
        return String.format(Locale.ROOT, "circle(r=%.2f)", radius);
    }
}
