package io.dozor.server.http;

/** An invalid request; {@code field} is the JSON path of what was wrong (e.g. {@code events[2].timestamp}). */
public final class BadRequest extends RuntimeException {
    private final String field;

    public BadRequest(String field, String problem) {
        super(field + ": " + problem);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
