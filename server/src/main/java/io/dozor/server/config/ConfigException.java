package io.dozor.server.config;

/** A bad or missing setting; the message names it (YAML key and environment variable). */
public final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(Setting setting, String problem) {
        super(setting.key() + " (" + setting.envName() + "): " + problem);
    }
}
