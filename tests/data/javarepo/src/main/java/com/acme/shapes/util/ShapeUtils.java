package com.acme.shapes.util;

import com.acme.shapes.Shape;
import java.util.List;

public final class ShapeUtils {
    private ShapeUtils() {}

    public static double totalArea(List<? extends Shape> shapes) {
        double total = 0;
        for (Shape shape : shapes) {
            total += shape.area();
        }
        return total;
    }
}
