package io.dozor.testkit;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * What a test class runs Dozor on, as a JUnit extension to subclass: a folder, a fresh PostgreSQL database, the
 * shared Elasticsearch node and, if asked for, a fake Bot API; the subclass starts Dozor on them in
 * {@link #start}. Registered as a {@code static} {@code @RegisterExtension} field, it starts before the class's
 * {@code @BeforeAll} methods and closes after its {@code @AfterAll} ones, in the reverse order of
 * {@link #closeLater} (what the subclass started, the fake Bot API, the database, what came with the folder),
 * each even if one before failed; what a failed start left unmade is skipped.
 */
public abstract class TestServices implements BeforeAllCallback, AfterAllCallback {
    private final String botToken;
    private final Deque<AutoCloseable> toClose = new ArrayDeque<>();
    private Path dir;
    private PostgresDatabase db;
    private FakeTelegram telegram;

    /** {@code botToken}: the token the fake Bot API accepts; null for none. */
    protected TestServices(String botToken) {
        this.botToken = botToken;
    }

    /** The test class's folder, made ready (a {@link #closeLater} here closes after everything else). */
    protected abstract Path folder(ExtensionContext context) throws Exception;

    /** Starts Dozor on the services. */
    protected abstract void start() throws Exception;

    /** {@code closeable} is closed after the class, before what was given earlier. */
    protected final void closeLater(AutoCloseable closeable) {
        toClose.push(closeable);
    }

    @Override
    public final void beforeAll(ExtensionContext context) throws Exception {
        dir = folder(context);
        db = PostgresDatabase.create();
        closeLater(db);
        if (botToken != null) {
            telegram = FakeTelegram.start(botToken);
            closeLater(telegram);
        }
        start();
    }

    @Override
    public final void afterAll(ExtensionContext context) throws Exception {
        Exception failure = null;
        while (!toClose.isEmpty()) {
            try {
                toClose.pop().close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** The test class's folder. */
    public Path dir() {
        return dir;
    }

    public PostgresDatabase db() {
        return db;
    }

    /** The shared Elasticsearch node, started on first use (Dozor may reach it through a proxy or not at all). */
    public Elasticsearch es() {
        return Elasticsearch.shared();
    }

    /** The fake Bot API, if there is one. */
    public FakeTelegram telegram() {
        return telegram;
    }
}
