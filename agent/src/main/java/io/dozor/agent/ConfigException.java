package io.dozor.agent;

/**
 * A bad or missing setting. The message is one line that names the setting, e.g.
 * {@code [server] url: missing}; {@link Main} prints it and exits with status 2.
 */
public final class ConfigException extends Exception {

    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }

    static ConfigException of(String section, String key, String problem) {
        return new ConfigException("[" + section + "] " + key + ": " + problem);
    }
}
