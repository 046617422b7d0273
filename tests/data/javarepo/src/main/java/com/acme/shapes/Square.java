package com.acme.shapes;

import java.util.Locale;

public class Square extends Shape {
    private final double side;

    public Square(double side) {
        super("square");
        this.side = side;
    }

    @Override
    public double area() {
        return side * side;
    }

    public String format() {
        return String.format(Locale.ROOT, "square(s=%.2f)", side);
    }
}
