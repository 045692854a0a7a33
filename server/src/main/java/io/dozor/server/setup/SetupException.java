package io.dozor.server.setup;

/** A setup step that could not be done (a service down or refusing); the CLI exits 1 with the message. */
public final class SetupException extends RuntimeException {
    public SetupException(String message) {
        super(message);
    }

    static String abbreviate(String body) {
        String oneLine = body == null ? "" : body.replaceAll("\\s+", " ").trim();
        return oneLine.length() <= 300 ? oneLine : oneLine.substring(0, 300) + "…";
    }
}
