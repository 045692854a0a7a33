package io.dozor.agent;

import io.dozor.common.PrivateFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;

/**
 * The durable queue: events in an SQLite database ({@code spool.db} in {@code [spool] dir}).
 *
 * <ul>
 *   <li>{@link #offer} returns true after the event is committed with {@code journal_mode=WAL} and
 *       {@code synchronous=FULL}: the WAL is fsynced on every commit, so an offered event survives kill -9
 *       and a power cut. Launches are rare (a few a minute), so the fsync costs nothing noticeable.</li>
 *   <li>An event leaves only through {@link #acknowledge} (after a 2xx), by its id; the event id is made
 *       before the event is written, so a batch resent after a crash is stored once by the server.</li>
 *   <li>Bounded by {@code max_mb} of event JSON (the file itself is somewhat larger): beyond it the oldest
 *       events are deleted, each logged, and counted in a counter kept in the same database.</li>
 * </ul>
 *
 * <p>Faults of the PC never stop the agent. When a write fails (disk full, I/O error, the file made
 * read-only) the connection is closed and the spool is <em>broken</em>: launches are kept in a bounded
 * memory buffer of {@value #MEMORY_EVENTS} (the shipper sends them directly when the server answers), the
 * oldest beyond it counted in {@link #unpersisted()}; every {@link #RETRY} (monotonic time, {@link #recover})
 * the file is reopened and what waits in memory moved into it, in one transaction, so nothing already
 * spooled is lost and nothing is stored twice. Events acknowledged while their deletion could not be
 * written are remembered and deleted on recovery. A file SQLite calls corrupt (or not a database), or that
 * cannot be opened at all, is moved aside to {@code spool.db.corrupt-<time>} and a fresh spool started,
 * with one ERROR line; the events it held count as dropped (when they can be counted).
 *
 * <p>Thread-safe: one connection, guarded by a lock (the poller offers, the shipper peeks and acknowledges,
 * the heartbeat reads the counters).
 */
public final class SqliteSpool extends LockedEventQueue {

    private static final Logger log = LoggerFactory.getLogger(SqliteSpool.class);
    public static final String FILE_NAME = "spool.db";
    /** Launches kept in memory while the spool cannot be written (about 0.5 KB each). */
    public static final int MEMORY_EVENTS = 100;
    /** Time between two attempts to reopen a broken spool. */
    static final Duration RETRY = Duration.ofSeconds(2);

    private static final String DROPPED = "dropped_events";
    private static final String UNPERSISTED = "unpersisted_events";
    private static final DateTimeFormatter STAMP =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    private final Path dir;
    private final Path file;
    private final long maxBytes;
    private final boolean rememberReported;
    private final Ticker ticker;
    private final Clock clock;

    /** Null while the spool is broken. */
    private Connection db;
    /** Why the spool is broken (short), null while it works. */
    private String error;

    private long retryAt;
    private final ArrayDeque<LaunchEvent> memory = new ArrayDeque<>();
    /** Ids of events delivered whose deletion could not be written (at most one batch). */
    private final Set<String> undeleted = new LinkedHashSet<>();
    /** Events and bytes in the file (as last counted). */
    private int stored;

    private long bytes;
    private long dropped;
    private long unpersisted;
    /** A counter changed while the file could not be written. */
    private boolean countersChanged;

    private SqliteSpool(Path dir, long maxBytes, boolean rememberReported, Ticker ticker, Clock clock) {
        this.dir = dir;
        this.file = dir.resolve(FILE_NAME);
        this.maxBytes = maxBytes;
        this.rememberReported = rememberReported;
        this.ticker = ticker;
        this.clock = clock;
    }

    /** Opens (or creates) the spool in {@code dir}; see {@link #open(Path, long, boolean, Ticker, Clock)}. */
    public static SqliteSpool open(Path dir, long maxBytes) {
        return open(dir, maxBytes, false);
    }

    /**
     * As {@link #open(Path, long)}; with {@code rememberReported} each offered launch's process is also kept
     * (in the same transaction) in {@link #reported()} until {@link #forgetReportedExcept} drops it.
     */
    public static SqliteSpool open(Path dir, long maxBytes, boolean rememberReported) {
        return open(dir, maxBytes, rememberReported, Ticker.SYSTEM, Clock.systemUTC());
    }

    /**
     * Never fails: a corrupt or unreadable file is moved aside and a fresh one started; a spool that cannot
     * be opened at all (the directory cannot be written) starts broken and is retried.
     *
     * @param ticker monotonic time of the retries
     * @param clock  names a file moved aside
     */
    static SqliteSpool open(Path dir, long maxBytes, boolean rememberReported, Ticker ticker, Clock clock) {
        SqliteSpool spool = new SqliteSpool(dir, maxBytes, rememberReported, ticker, clock);
        spool.lock.lock();
        try {
            spool.connectOrReplace(true);
            if (spool.db != null) {
                log.info(
                        "spool opened [file={}, events={}, bytes={}, max_bytes={}, dropped={}, unpersisted={}]",
                        spool.file,
                        spool.stored,
                        spool.bytes,
                        maxBytes,
                        spool.dropped,
                        spool.unpersisted);
            }
        } finally {
            spool.lock.unlock();
        }
        return spool;
    }

    /** Connects; a file SQLite cannot use is moved aside and a fresh one tried once. Leaves it broken on failure. */
    private void connectOrReplace(boolean first) {
        try {
            connect(first);
            return;
        } catch (SQLException e) {
            if (!unusable(e) && !unusableFile()) {
                broken(e, "open");
                return;
            }
            int counted = countEventsIn(file);
            // reopened while running: the events last counted in the file are the loss
            if (!moveAside(reason(e), e, counted >= 0 || first ? counted : stored)) {
                broken(e, "open");
                return;
            }
        }
        try {
            connect(first);
            if (countersChanged) {
                commit(List.of()); // the loss counted in the fresh file
            }
        } catch (SQLException again) {
            closeQuietly(db);
            db = null;
            broken(again, "open");
        }
    }

    /** There is something at the spool's path that is not a file this process may read and write. */
    private boolean unusableFile() {
        return Files.exists(file) && (!Files.isRegularFile(file) || !Files.isReadable(file) || !Files.isWritable(file));
    }

    private void connect(boolean first) throws SQLException {
        try {
            PrivateFiles.createDirectories(dir);
            // SQLite gives its -wal, -shm and -journal files the permissions of the database file
            PrivateFiles.createFileIfMissing(file);
        } catch (IOException e) {
            throw new SQLException("cannot create the spool " + file + ": " + e, null, SQLITE_CANTOPEN);
        }
        Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        try {
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA busy_timeout=5000");
                s.execute("PRAGMA journal_mode=WAL");
                s.execute("PRAGMA synchronous=FULL");
                try (ResultSet r = s.executeQuery("PRAGMA quick_check")) {
                    String verdict = r.next() ? r.getString(1) : "no answer";
                    if (!"ok".equals(verdict)) {
                        throw new SQLException("quick_check: " + verdict, null, SQLITE_CORRUPT);
                    }
                }
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
            truncateWal(c);
            c.setAutoCommit(false);
            long[] counters = load(c);
            if (first) {
                dropped += counters[0]; // plus what a file moved aside just now held
                unpersisted += counters[1];
            }
            if (counters[0] != dropped || counters[1] != unpersisted) {
                countersChanged = true; // the memory's counts only grew since: saved with the next write
            }
        } catch (SQLException | RuntimeException e) {
            closeQuietly(c);
            throw e;
        }
        db = c;
    }

    /**
     * Copies the WAL into the database file and truncates it to nothing: on a disk with little room the WAL
     * (which otherwise keeps its largest size, up to the 4 MB of the automatic checkpoint) would take the
     * room the next writes need. Done when the connection opens and after each delivered batch; a
     * checkpoint that cannot complete now (a reader, no room) only leaves the WAL as it is.
     */
    private void truncateWal(Connection c) {
        try {
            boolean manual = !c.getAutoCommit();
            if (manual) {
                c.commit();
                c.setAutoCommit(true);
            }
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA wal_checkpoint(TRUNCATE)");
            } finally {
                if (manual) {
                    c.setAutoCommit(false);
                }
            }
        } catch (SQLException e) {
            log.debug("spool checkpoint not done [file={}, error={}]", file, e.toString());
        }
    }

    /** Counts the file's events; returns the saved dropped and unpersisted counters. */
    private long[] load(Connection c) throws SQLException {
        long[] counters = new long[2];
        try (Statement s = c.createStatement()) {
            try (ResultSet r = s.executeQuery("SELECT COUNT(*), COALESCE(SUM(length(body)), 0) FROM events")) {
                r.next();
                stored = r.getInt(1);
                bytes = r.getLong(2);
            }
            try (ResultSet r = s.executeQuery("SELECT name, value FROM counters")) {
                while (r.next()) {
                    if (DROPPED.equals(r.getString(1))) {
                        counters[0] = r.getLong(2);
                    } else if (UNPERSISTED.equals(r.getString(1))) {
                        counters[1] = r.getLong(2);
                    }
                }
            }
        }
        c.commit();
        return counters;
    }

    public Path file() {
        return file;
    }

    @Override
    public Set<ProcessInfo.Key> reported() {
        lock.lock();
        try {
            if (db == null) {
                return Set.of();
            }
            try (Statement s = db.createStatement();
                    ResultSet r = s.executeQuery("SELECT pid, start_ms FROM reported")) {
                Set<ProcessInfo.Key> keys = new HashSet<>();
                while (r.next()) {
                    keys.add(new ProcessInfo.Key(r.getLong(1), Instant.ofEpochMilli(r.getLong(2))));
                }
                db.commit();
                return keys;
            } catch (SQLException e) {
                failed(e, "read");
                return Set.of();
            }
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
        try {
            if (db == null) {
                return;
            }
            try (PreparedStatement delete =
                    db.prepareStatement("DELETE FROM reported WHERE pid = ? AND start_ms = ?")) {
                for (ProcessInfo.Key k : gone) {
                    delete.setLong(1, k.pid());
                    delete.setLong(2, k.startTime().toEpochMilli());
                    delete.addBatch();
                }
                delete.executeBatch();
                db.commit();
            } catch (SQLException e) {
                failed(e, "write");
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stores the event; true when it is committed to the file. False when the spool is broken: the event
     * then waits in memory (or, with the memory full, the oldest waiting launch is lost and counted).
     */
    @Override
    public boolean offer(LaunchEvent event) {
        lock.lock();
        try {
            recoverLocked();
            boolean persisted = false;
            if (db != null) {
                int storedBefore = stored;
                long bytesBefore = bytes;
                try {
                    List<String> droppedNow = new ArrayList<>();
                    insert(event, droppedNow);
                    commit(droppedNow);
                    persisted = true;
                } catch (SQLException e) {
                    stored = storedBefore; // rolled back
                    bytes = bytesBefore;
                    failed(e, "write");
                }
            }
            if (!persisted) {
                keepInMemory(event);
            }
            notEmpty.signalAll();
            return persisted;
        } finally {
            lock.unlock();
        }
    }

    /** Inserts in the open transaction, dropping the oldest events beyond {@code max_mb}. */
    private void insert(LaunchEvent event, List<String> droppedNow) throws SQLException {
        byte[] body = EventJson.event(event);
        while (stored > 0 && bytes + body.length > maxBytes) {
            droppedNow.add(dropOldest());
        }
        try (PreparedStatement insert =
                db.prepareStatement("INSERT OR IGNORE INTO events (event_id, body) VALUES (?, ?)")) {
            insert.setString(1, event.eventId().toString());
            insert.setBytes(2, body);
            if (insert.executeUpdate() == 1) {
                stored++;
                bytes += body.length;
            }
        }
        if (rememberReported) {
            try (PreparedStatement remember =
                    db.prepareStatement("INSERT OR IGNORE INTO reported (pid, start_ms) VALUES (?, ?)")) {
                remember.setLong(1, event.pid());
                remember.setLong(2, event.timestamp().toInstant().toEpochMilli());
                remember.executeUpdate();
            }
        }
    }

    /** Saves the counters when they changed and commits; then counts and logs what was dropped. */
    private void commit(List<String> droppedNow) throws SQLException {
        if (!droppedNow.isEmpty() || countersChanged) {
            saveCounter(DROPPED, dropped + droppedNow.size());
            saveCounter(UNPERSISTED, unpersisted);
        }
        db.commit();
        countersChanged = false;
        dropped += droppedNow.size();
        for (String id : droppedNow) {
            log.warn(
                    "spool full, dropped the oldest event [event_id={}, max_bytes={}, dropped_total={}]",
                    id,
                    maxBytes,
                    dropped);
        }
    }

    private void keepInMemory(LaunchEvent event) {
        if (memory.size() >= MEMORY_EVENTS) {
            LaunchEvent lost = memory.removeFirst();
            unpersisted++;
            countersChanged = true;
            log.warn(
                    "launch lost: the spool cannot be written and the memory buffer is full [event_id={}, "
                            + "process={}, memory_events={}, unpersisted_total={}]",
                    lost.eventId(),
                    lost.processName(),
                    MEMORY_EVENTS,
                    unpersisted);
        }
        memory.addLast(event);
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
            stored--;
            bytes -= length;
            return id;
        }
    }

    private void saveCounter(String name, long value) throws SQLException {
        try (PreparedStatement s = db.prepareStatement(
                "INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value")) {
            s.setString(1, name);
            s.setLong(2, value);
            s.executeUpdate();
        }
    }

    /** The file's oldest events first, then those waiting in memory. */
    @Override
    public List<LaunchEvent> peek(int max) {
        lock.lock();
        try {
            recoverLocked();
            List<LaunchEvent> batch = new ArrayList<>(Math.min(max, availableLocked()));
            if (db != null) {
                try {
                    readStored(batch, max);
                } catch (SQLException e) {
                    batch.clear();
                    failed(e, "read");
                }
            }
            for (LaunchEvent e : memory) {
                if (batch.size() >= max) {
                    break;
                }
                batch.add(e);
            }
            return batch;
        } finally {
            lock.unlock();
        }
    }

    private void readStored(List<LaunchEvent> batch, int max) throws SQLException {
        List<String> unreadable = new ArrayList<>();
        try (PreparedStatement s = db.prepareStatement("SELECT event_id, body FROM events ORDER BY seq LIMIT ?")) {
            s.setInt(1, max);
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    byte[] body = r.getBytes(2);
                    try {
                        batch.add(EventJson.read(body));
                    } catch (IllegalArgumentException e) {
                        log.error(
                                "unreadable event in the spool, deleting it [event_id={}, error={}, body={}]",
                                r.getString(1),
                                e.getMessage(),
                                new String(body, StandardCharsets.UTF_8));
                        unreadable.add(r.getString(1));
                    }
                }
            }
        }
        db.commit();
        if (!unreadable.isEmpty()) {
            delete(unreadable);
        }
    }

    @Override
    public void acknowledge(List<LaunchEvent> batch) {
        lock.lock();
        try {
            Set<String> ids = new HashSet<>();
            batch.forEach(e -> ids.add(e.eventId().toString()));
            memory.removeIf(e -> ids.remove(e.eventId().toString()));
            if (ids.isEmpty()) {
                return;
            }
            if (db == null) {
                rememberUndeleted(ids); // peeked from the file before it broke
                return;
            }
            try {
                delete(ids);
            } catch (SQLException e) {
                rememberUndeleted(ids);
                failed(e, "delete");
            }
        } finally {
            lock.unlock();
        }
    }

    /** Bounded: past the bound an event is sent again after recovery, which the server stores once. */
    private void rememberUndeleted(Set<String> ids) {
        for (String id : ids) {
            if (undeleted.size() >= 2 * EventShipper.MAX_BATCH) {
                return;
            }
            undeleted.add(id);
        }
    }

    /** Deletes events by id and commits; then counts the file again. */
    private void delete(java.util.Collection<String> eventIds) throws SQLException {
        try (PreparedStatement s = db.prepareStatement("DELETE FROM events WHERE event_id = ?")) {
            for (String id : eventIds) {
                s.setString(1, id);
                s.addBatch();
            }
            s.executeBatch();
        }
        db.commit();
        load(db);
        truncateWal(db);
    }

    @Override
    public void recover() {
        lock.lock();
        try {
            recoverLocked();
        } finally {
            lock.unlock();
        }
    }

    /**
     * When broken and the retry time has come: reopens the file, deletes what was delivered meanwhile and
     * moves the memory's launches into it, in one transaction.
     */
    private void recoverLocked() {
        if (db != null && memory.isEmpty() && undeleted.isEmpty()) {
            return;
        }
        if (ticker.nanos() - retryAt < 0) {
            return;
        }
        retryAt = ticker.nanos() + RETRY.toNanos();
        if (db == null) {
            connectOrReplace(false);
            if (db == null) {
                return;
            }
        }
        int moved = memory.size();
        int storedBefore = stored;
        long bytesBefore = bytes;
        try {
            if (!undeleted.isEmpty()) {
                try (PreparedStatement s = db.prepareStatement("DELETE FROM events WHERE event_id = ?")) {
                    for (String id : undeleted) {
                        s.setString(1, id);
                        s.addBatch();
                    }
                    s.executeBatch();
                }
            }
            List<String> droppedNow = new ArrayList<>();
            for (LaunchEvent e : memory) {
                insert(e, droppedNow);
            }
            countersChanged = true; // a write even with nothing to move: proof that the file takes writes again
            commit(droppedNow);
            load(db);
            truncateWal(db);
        } catch (SQLException e) {
            stored = storedBefore; // rolled back
            bytes = bytesBefore;
            failed(e, "write");
            return;
        }
        memory.clear();
        undeleted.clear();
        if (error != null) {
            log.info(
                    "spool works again [file={}, was={}, moved_from_memory={}, events={}, unpersisted_total={}]",
                    file,
                    error,
                    moved,
                    stored,
                    unpersisted);
            error = null;
        }
        notEmpty.signalAll();
    }

    /** A statement failed: the connection is closed (a failed commit leaves it unusable) and retried later. */
    private void failed(SQLException e, String doing) {
        closeQuietly(db);
        db = null;
        if (unusable(e) && moveAside(reason(e), e, stored)) {
            connectOrReplace(false);
            if (db != null) {
                return;
            }
        }
        broken(e, doing);
    }

    /** Marks the spool broken, logging a change of reason once; the next attempt is in {@link #RETRY}. */
    private void broken(SQLException e, String doing) {
        String reason = reason(e);
        retryAt = ticker.nanos() + RETRY.toNanos();
        if (!reason.equals(error)) {
            log.warn(
                    "cannot {} the spool, launches wait in memory (up to {}) until it works again "
                            + "[file={}, reason={}, error={}]",
                    doing,
                    MEMORY_EVENTS,
                    file,
                    reason,
                    e.getMessage());
        }
        error = reason;
    }

    /**
     * Renames the unusable file (and its WAL; the shared-memory index is rebuilt) to
     * {@code spool.db.corrupt-<time>}. One ERROR line; the events it held count as dropped.
     */
    private boolean moveAside(String reason, SQLException cause, int lostEvents) {
        Path target = dir.resolve(FILE_NAME + ".corrupt-" + STAMP.format(clock.instant()));
        for (int n = 2; Files.exists(target); n++) {
            target = dir.resolve(FILE_NAME + ".corrupt-" + STAMP.format(clock.instant()) + "-" + n);
        }
        try {
            if (Files.exists(file)) {
                Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
            }
            Path wal = dir.resolve(FILE_NAME + "-wal");
            if (Files.exists(wal)) {
                Files.move(wal, dir.resolve(target.getFileName() + "-wal"), StandardCopyOption.ATOMIC_MOVE);
            }
            Files.deleteIfExists(dir.resolve(FILE_NAME + "-shm"));
        } catch (IOException e) {
            log.error(
                    "spool unusable and cannot be moved aside [file={}, reason={}, error={}, move_error={}]",
                    file,
                    reason,
                    cause.getMessage(),
                    e.toString());
            return false;
        }
        if (lostEvents > 0) {
            dropped += lostEvents;
            countersChanged = true;
        }
        stored = 0;
        bytes = 0;
        undeleted.clear();
        log.error(
                "spool unusable, moved aside and a fresh one started [file={}, moved_to={}, reason={}, "
                        + "error={}, lost_events={}, dropped_total={}]",
                file,
                target.getFileName(),
                reason,
                cause.getMessage(),
                lostEvents < 0 ? "unknown" : lostEvents,
                dropped);
        return true;
    }

    /** The events of an unusable file, when SQLite can still count them; else -1. */
    private static int countEventsIn(Path file) {
        if (!Files.isRegularFile(file)) {
            return -1;
        }
        SQLiteConfig readOnly = new SQLiteConfig();
        readOnly.setReadOnly(true);
        try (Connection c = readOnly.createConnection("jdbc:sqlite:" + file);
                Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT COUNT(*) FROM events")) {
            return r.next() ? r.getInt(1) : -1;
        } catch (SQLException | RuntimeException e) {
            return -1;
        }
    }

    // SQLite's primary result codes (the low byte of an extended code)
    static final int SQLITE_PERM = 3;
    static final int SQLITE_READONLY = 8;
    static final int SQLITE_IOERR = 10;
    static final int SQLITE_CORRUPT = 11;
    static final int SQLITE_FULL = 13;
    static final int SQLITE_CANTOPEN = 14;
    static final int SQLITE_NOTADB = 26;

    /** A file SQLite will never use again as it is: corrupt, or not a database. */
    private static boolean unusable(SQLException e) {
        int code = e.getErrorCode() & 0xff;
        return code == SQLITE_CORRUPT || code == SQLITE_NOTADB;
    }

    /** A short reason for the heartbeat and the log. */
    static String reason(SQLException e) {
        return switch (e.getErrorCode() & 0xff) {
            case SQLITE_FULL -> "disk full";
            case SQLITE_IOERR -> "I/O error";
            case SQLITE_CORRUPT, SQLITE_NOTADB -> "corrupt";
            case SQLITE_READONLY -> "read-only";
            case SQLITE_PERM -> "permission denied";
            case SQLITE_CANTOPEN -> "cannot open";
            default -> "error " + e.getErrorCode();
        };
    }

    private void closeQuietly(Connection c) {
        if (c == null) {
            return;
        }
        try {
            c.rollback();
        } catch (SQLException ignored) {
            // closing anyway
        }
        try {
            c.close();
        } catch (SQLException e) {
            log.debug("cannot close the spool connection [file={}, error={}]", file, e.toString());
        }
    }

    /** Makes a last attempt to store what waits in memory; what cannot be is counted and logged. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (!memory.isEmpty() || !undeleted.isEmpty()) {
                retryAt = ticker.nanos();
                recoverLocked();
            }
            if (!memory.isEmpty()) {
                unpersisted += memory.size();
                log.warn(
                        "stopping with launches neither stored nor delivered, lost [count={}, unpersisted_total={}]",
                        memory.size(),
                        unpersisted);
                memory.clear();
            }
            closeQuietly(db);
            db = null;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public long unpersisted() {
        return locked(() -> unpersisted);
    }

    @Override
    public String error() {
        return locked(() -> error);
    }

    @Override
    protected int sizeLocked() {
        return Math.max(0, stored - undeleted.size()) + memory.size();
    }

    @Override
    protected int availableLocked() {
        return db == null ? memory.size() : sizeLocked();
    }

    @Override
    protected long droppedLocked() {
        return dropped;
    }
}
