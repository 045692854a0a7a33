package io.dozor.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable queue: events in an SQLite database ({@code spool.db} in {@code [spool] dir}).
 *
 * <ul>
 *   <li>{@link #offer} returns after the event is committed with {@code journal_mode=WAL} and
 *       {@code synchronous=FULL}: the WAL is fsynced on every commit, so an offered event survives kill -9
 *       and a power cut. Launches are rare (a few a minute), so the fsync costs nothing noticeable.</li>
 *   <li>An event leaves only through {@link #acknowledge} (after a 2xx), by its id; the event id is made
 *       before the event is written, so a batch resent after a crash is stored once by the server.</li>
 *   <li>Bounded by {@code max_mb} of event JSON (the file itself is somewhat larger): beyond it the oldest
 *       events are deleted, each logged, and counted in a counter kept in the same database.</li>
 * </ul>
 * Thread-safe: one connection, guarded by a lock (the poller offers, the shipper peeks and acknowledges,
 * the heartbeat reads the counters).
 */
public final class SqliteSpool extends LockedEventQueue {

    private static final Logger log = LoggerFactory.getLogger(SqliteSpool.class);
    public static final String FILE_NAME = "spool.db";
    private static final String DROPPED = "dropped_events";

    private final Connection db;
    private final Path file;
    private final long maxBytes;
    private int size;
    private long bytes;
    private long dropped;

    private final boolean rememberReported;

    private SqliteSpool(Connection db, Path file, long maxBytes, boolean rememberReported) {
        this.db = db;
        this.file = file;
        this.maxBytes = maxBytes;
        this.rememberReported = rememberReported;
    }

    /** Opens (or creates) the spool in {@code dir}; fails with a message naming the file. */
    public static SqliteSpool open(Path dir, long maxBytes) {
        return open(dir, maxBytes, false);
    }

    /**
     * As {@link #open(Path, long)}; with {@code rememberReported} each offered launch's process is also kept
     * (in the same transaction) in {@link #reported()} until {@link #forgetReportedExcept} drops it.
     */
    public static SqliteSpool open(Path dir, long maxBytes, boolean rememberReported) {
        Path file = dir.resolve(FILE_NAME);
        try {
            PrivateFiles.createDirectories(dir);
            // SQLite gives its -wal, -shm and -journal files the permissions of the database file
            PrivateFiles.createFileIfMissing(file);
            // SQLite gives its -wal, -shm and -journal files the permissions of the database file
        } catch (IOException e) {
            throw new IllegalStateException("cannot create the spool " + file + ": " + e, e);
        }
        try {
            Connection db = DriverManager.getConnection("jdbc:sqlite:" + file);
            try (Statement s = db.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
                s.execute("PRAGMA synchronous=FULL");
                s.execute("PRAGMA busy_timeout=5000");
                s.execute("""
                        CREATE TABLE IF NOT EXISTS events (
                          seq INTEGER PRIMARY KEY AUTOINCREMENT,
                          event_id TEXT NOT NULL UNIQUE,
                          body BLOB NOT NULL)""");
                s.execute("CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)");
                s.execute("""
                        CREATE TABLE IF NOT EXISTS reported (
                          pid INTEGER NOT NULL,
                          start_ms INTEGER NOT NULL,
                          PRIMARY KEY (pid, start_ms)) WITHOUT ROWID""");
            }
            db.setAutoCommit(false);
            SqliteSpool spool = new SqliteSpool(db, file, maxBytes, rememberReported);
            spool.load();
            log.info("spool opened [file={}, events={}, bytes={}, max_bytes={}, dropped={}]",
                    file, spool.size, spool.bytes, maxBytes, spool.dropped);
            return spool;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open the spool " + file + ": " + e.getMessage(), e);
        }
    }

    private void load() throws SQLException {
        try (Statement s = db.createStatement()) {
            try (ResultSet r = s.executeQuery("SELECT COUNT(*), COALESCE(SUM(length(body)), 0) FROM events")) {
                r.next();
                size = r.getInt(1);
                bytes = r.getLong(2);
            }
            try (ResultSet r = s.executeQuery("SELECT value FROM counters WHERE name = '" + DROPPED + "'")) {
                dropped = r.next() ? r.getLong(1) : 0;
            }
        }
        db.commit();
    }

    public Path file() {
        return file;
    }

    @Override
    public Set<ProcessInfo.Key> reported() {
        lock.lock();
        try (Statement s = db.createStatement();
             ResultSet r = s.executeQuery("SELECT pid, start_ms FROM reported")) {
            Set<ProcessInfo.Key> keys = new HashSet<>();
            while (r.next()) {
                keys.add(new ProcessInfo.Key(r.getLong(1), Instant.ofEpochMilli(r.getLong(2))));
            }
            db.commit();
            return keys;
        } catch (SQLException e) {
            rollback();
            throw new IllegalStateException("cannot read the spool " + file + ": " + e.getMessage(), e);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void forgetReportedExcept(Set<ProcessInfo.Key> running) {
        List<ProcessInfo.Key> gone = new ArrayList<>();
        for (ProcessInfo.Key k : reported()) {
            if (running.stream().noneMatch(k::sameProcess)) {
                gone.add(k);
            }
        }
        if (gone.isEmpty()) {
            return;
        }
        lock.lock();
        try (PreparedStatement delete = db.prepareStatement("DELETE FROM reported WHERE pid = ? AND start_ms = ?")) {
            for (ProcessInfo.Key k : gone) {
                delete.setLong(1, k.pid());
                delete.setLong(2, k.startTime().toEpochMilli());
                delete.addBatch();
            }
            delete.executeBatch();
            db.commit();
        } catch (SQLException e) {
            rollback();
            throw new IllegalStateException("cannot write to the spool " + file + ": " + e.getMessage(), e);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean offer(LaunchEvent event) {
        byte[] body = EventJson.event(event);
        lock.lock();
        try {
            List<String> droppedNow = new ArrayList<>();
            try {
                while (size > 0 && bytes + body.length > maxBytes) {
                    droppedNow.add(dropOldest());
                }
                try (PreparedStatement insert = db.prepareStatement(
                        "INSERT OR IGNORE INTO events (event_id, body) VALUES (?, ?)")) {
                    insert.setString(1, event.eventId().toString());
                    insert.setBytes(2, body);
                    if (insert.executeUpdate() == 1) {
                        size++;
                        bytes += body.length;
                    }
                }
                if (!droppedNow.isEmpty()) {
                    saveDropped(dropped + droppedNow.size());
                }
                if (rememberReported) {
                    try (PreparedStatement remember = db.prepareStatement(
                            "INSERT OR IGNORE INTO reported (pid, start_ms) VALUES (?, ?)")) {
                        remember.setLong(1, event.pid());
                        remember.setLong(2, event.timestamp().toInstant().toEpochMilli());
                        remember.executeUpdate();
                    }
                }
                db.commit();
            } catch (SQLException e) {
                rollback();
                reload();
                throw new IllegalStateException("cannot write to the spool " + file + ": " + e.getMessage(), e);
            }
            dropped += droppedNow.size();
            for (String id : droppedNow) {
                log.warn("spool full, dropped the oldest event [event_id={}, max_bytes={}, dropped_total={}]",
                        id, maxBytes, dropped);
            }
            notEmpty.signalAll();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Deletes the oldest event in the open transaction; returns its id. */
    private String dropOldest() throws SQLException {
        try (Statement s = db.createStatement();
             ResultSet r = s.executeQuery("SELECT seq, event_id, length(body) FROM events ORDER BY seq LIMIT 1")) {
            r.next();
            long seq = r.getLong(1);
            String id = r.getString(2);
            long length = r.getLong(3);
            try (PreparedStatement delete = db.prepareStatement("DELETE FROM events WHERE seq = ?")) {
                delete.setLong(1, seq);
                delete.executeUpdate();
            }
            size--;
            bytes -= length;
            return id;
        }
    }

    private void saveDropped(long value) throws SQLException {
        try (PreparedStatement s = db.prepareStatement(
                "INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value")) {
            s.setString(1, DROPPED);
            s.setLong(2, value);
            s.executeUpdate();
        }
    }

    @Override
    public List<LaunchEvent> peek(int max) {
        lock.lock();
        try {
            List<LaunchEvent> batch = new ArrayList<>(Math.min(max, size));
            List<String> unreadable = new ArrayList<>();
            try (PreparedStatement s = db.prepareStatement("SELECT event_id, body FROM events ORDER BY seq LIMIT ?")) {
                s.setInt(1, max);
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        byte[] body = r.getBytes(2);
                        try {
                            batch.add(EventJson.read(body));
                        } catch (IllegalArgumentException e) {
                            log.error("unreadable event in the spool, deleting it [event_id={}, error={}, body={}]",
                                    r.getString(1), e.getMessage(), new String(body, StandardCharsets.UTF_8));
                            unreadable.add(r.getString(1));
                        }
                    }
                }
                db.commit();
                if (!unreadable.isEmpty()) {
                    delete(unreadable);
                }
            } catch (SQLException e) {
                rollback();
                throw new IllegalStateException("cannot read the spool " + file + ": " + e.getMessage(), e);
            }
            return batch;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void acknowledge(List<LaunchEvent> batch) {
        delete(batch.stream().map(e -> e.eventId().toString()).toList());
    }

    private void delete(List<String> eventIds) {
        lock.lock();
        try {
            try (PreparedStatement s = db.prepareStatement("DELETE FROM events WHERE event_id = ?")) {
                for (String id : eventIds) {
                    s.setString(1, id);
                    s.addBatch();
                }
                s.executeBatch();
                db.commit();
            } catch (SQLException e) {
                rollback();
                throw new IllegalStateException("cannot delete from the spool " + file + ": " + e.getMessage(), e);
            } finally {
                reload();
            }
        } finally {
            lock.unlock();
        }
    }

    private void reload() {
        try {
            load();
        } catch (SQLException e) {
            log.warn("cannot count the spool [file={}, error={}]", file, e.toString());
        }
    }

    private void rollback() {
        try {
            db.rollback();
        } catch (SQLException e) {
            log.warn("spool rollback failed [file={}, error={}]", file, e.toString());
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            db.close();
        } catch (SQLException e) {
            log.warn("cannot close the spool [file={}, error={}]", file, e.toString());
        } finally {
            lock.unlock();
        }
    }

    @Override
    protected int sizeLocked() {
        return size;
    }

    @Override
    protected long droppedLocked() {
        return dropped;
    }
}
