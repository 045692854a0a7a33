package io.dozor.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs servers that refuse to run as root (Elasticsearch, PostgreSQL) under a dedicated system
 * user when this JVM runs as root (as on the build machines and CI). When the JVM does not run as
 * root, every method is a no-op and the servers run as the current user.
 */
public final class Unprivileged {
    private static final Logger LOG = LoggerFactory.getLogger(Unprivileged.class);
    private static final Pattern USER_NAME = Pattern.compile("[a-z_][a-z0-9_-]{0,30}");
    /** Serialises user creation between JVMs (useradd itself fails when /etc/passwd is locked). */
    private static final Path USERADD_LOCK = Path.of(System.getProperty("java.io.tmpdir"), "dozor-useradd.lock");

    private static volatile Boolean root;

    private Unprivileged() {}

    /** True when this process runs with uid 0. */
    public static boolean isRoot() {
        Boolean r = root;
        if (r == null) {
            r = computeIsRoot();
            root = r;
        }
        return r;
    }

    private static boolean computeIsRoot() {
        try {
            Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            return Integer.valueOf(0).equals(uid);
        } catch (Exception e) {
            try {
                Result id = run(List.of("id", "-u"), 10);
                return id.exitCode == 0 && id.output.strip().equals("0");
            } catch (RuntimeException e2) {
                return false;
            }
        }
    }

    /**
     * Makes sure the system user {@code name} exists (creating it with {@code useradd --system
     * --no-create-home --shell /usr/sbin/nologin} if needed) and returns the name of the user that
     * servers will run as: {@code name} when root, otherwise the current user (nothing is created).
     * Idempotent; safe when called concurrently by several threads or JVMs.
     */
    public static String ensureUser(String name) {
        if (!USER_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("not a valid user name: " + name);
        }
        if (!isRoot()) {
            return System.getProperty("user.name");
        }
        if (userExists(name)) {
            return name;
        }
        synchronized (Unprivileged.class) {
            try (FileChannel channel =
                            FileChannel.open(USERADD_LOCK, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                    FileLock ignored = channel.lock()) {
                String lastError = "";
                for (int attempt = 1; attempt <= 10; attempt++) {
                    if (userExists(name)) {
                        return name;
                    }
                    Result r = run(
                            List.of("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name),
                            60);
                    if (r.exitCode == 0 || userExists(name)) {
                        LOG.info("Created system user {} to run servers that refuse to run as root", name);
                        return name;
                    }
                    // 9 = name already in use (someone else was quicker), 10 = cannot lock /etc/passwd
                    lastError = "exit " + r.exitCode + ": " + r.output.strip();
                    Wait.pause(200L * attempt);
                }
                throw new IllegalStateException(
                        "cannot create system user " + name + " with useradd (" + lastError + ")");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot lock " + USERADD_LOCK, e);
            }
        }
    }

    /**
     * The command to start so that it runs as {@code user}: when root, prefixed with {@code setpriv
     * --reuid=USER --regid=GROUP --init-groups --} (GROUP = the user's primary group); otherwise the
     * command unchanged. The user must exist (see {@link #ensureUser}).
     */
    public static List<String> wrap(List<String> command, String user) {
        if (!isRoot() || user == null || user.equals("root")) {
            return List.copyOf(command);
        }
        List<String> wrapped = new ArrayList<>();
        wrapped.add("setpriv");
        wrapped.add("--reuid=" + user);
        wrapped.add("--regid=" + primaryGroup(user));
        wrapped.add("--init-groups");
        wrapped.add("--");
        wrapped.addAll(command);
        return wrapped;
    }

    /** Recursively gives {@code dir} (not following symlinks) to {@code user} and its primary group; no-op unless root. */
    public static void chown(Path dir, String user) {
        if (!isRoot() || user == null || user.equals("root")) {
            return;
        }
        Result r = run(List.of("chown", "-R", "-P", user + ":" + primaryGroup(user), dir.toString()), 300);
        if (r.exitCode != 0) {
            throw new IllegalStateException(
                    "chown -R " + user + " " + dir + " failed (exit " + r.exitCode + "): " + r.output.strip());
        }
    }

    /**
     * Runs {@code test -r/-w/-x} on {@code path} as {@code user}: useful to give a clear error when
     * the unprivileged user cannot reach a directory (e.g. one under /root, mode 700).
     */
    public static boolean canAccess(Path path, String user, String testFlag) {
        if (!isRoot()) {
            return true;
        }
        return run(wrap(List.of("test", testFlag, path.toString()), user), 30).exitCode == 0;
    }

    static String primaryGroup(String user) {
        Result r = run(List.of("id", "-gn", user), 30);
        if (r.exitCode != 0 || r.output.isBlank()) {
            throw new IllegalStateException("no such user " + user + " (id -gn: " + r.output.strip() + ")");
        }
        return r.output.strip();
    }

    private static boolean userExists(String name) {
        return run(List.of("id", "-u", name), 30).exitCode == 0;
    }

    record Result(int exitCode, String output) {}

    /** Runs a short command, returning its exit code and merged stdout/stderr. */
    static Result run(List<String> command, long timeoutSeconds) {
        try {
            Process p = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + command);
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + command, e);
        }
    }
}
