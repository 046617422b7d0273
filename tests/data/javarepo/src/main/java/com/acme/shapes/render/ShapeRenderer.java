package com.acme.shapes.render;

import com.acme.shapes.Shape;
import com.acme.shapes.util.ShapeUtils;
import java.util.List;

public class ShapeRenderer {
    private static final String HEADER = "== shapes ==";
    private final StringBuilder out = new StringBuilder();

    public String render(List<? extends Shape> shapes) {
        out.setLength(0);
        out.append(HEADER).append('\n');
        for (Shape shape : shapes) {
            out.append("  ").append(shape.describe()).append('\n');
        }
        out.append("total area: ").append(ShapeUtils.totalArea(shapes));
        return out.toString();
    }
}
