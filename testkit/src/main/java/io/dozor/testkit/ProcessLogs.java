package io.dozor.testkit;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** Small helpers for server child processes: log tails, stopping a process tree, cleanup on JVM exit. */
public final class ProcessLogs {
    private static final int MAX_TAIL_BYTES = 64 * 1024;

    private ProcessLogs() {}

    /**
     * The last {@code maxLines} lines of a text file (at most the last 64 KiB are read), or a short
     * note when the file does not exist or cannot be read. Never throws.
     */
    public static String tail(Path file, int maxLines) {
        if (file == null || !Files.isRegularFile(file)) {
            return "(no file " + file + ")";
        }
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
            long length = raf.length();
            int n = (int) Math.min(length, MAX_TAIL_BYTES);
            byte[] bytes = new byte[n];
            raf.seek(length - n);
            raf.readFully(bytes);
            String text = new String(bytes, StandardCharsets.UTF_8);
            List<String> lines = Arrays.asList(text.split("\r?\n", -1));
            if (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) {
                lines = lines.subList(0, lines.size() - 1);
            }
            if (lines.size() > maxLines) {
                lines = lines.subList(lines.size() - maxLines, lines.size());
            } else if (n < length && lines.size() > 1) {
                lines = lines.subList(1, lines.size()); // first line was cut in the middle
            }
            return String.join("\n", lines);
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e + ")";
        }
    }

    /** Formats "--- last lines of FILE ---" followed by the tail, for exception messages. */
    public static String describeTail(Path file, int maxLines) {
        return "\n--- last lines of " + file + " ---\n" + tail(file, maxLines) + "\n--- end of " + file + " ---";
    }

    /**
     * Stops a process and all its descendants: SIGTERM to the process, wait up to {@code graceMillis}
     * for it to exit, then SIGKILL to whatever is left (the process and the descendants seen before
     * and after the SIGTERM). Returns true if everything ended.
     */
    public static boolean stopTree(Process process, long graceMillis) {
        ProcessHandle root = process.toHandle();
        List<ProcessHandle> before = root.descendants().toList();
        process.destroy();
        try {
            process.waitFor(graceMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(graceMillis);
        for (ProcessHandle child : before) {
            waitUntil(child, deadline);
        }
        List<ProcessHandle> all = new java.util.ArrayList<>(before);
        all.addAll(root.descendants().toList());
        all.add(root);
        boolean allDead = true;
        for (ProcessHandle handle : all) {
            if (handle.isAlive()) {
                handle.destroyForcibly();
                try {
                    handle.onExit().get(10, TimeUnit.SECONDS);
                } catch (Exception e) {
                    allDead = false;
                }
            }
        }
        return allDead;
    }

    private static void waitUntil(ProcessHandle handle, long deadlineNanos) {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0 || !handle.isAlive()) {
            return;
        }
        try {
            handle.onExit().get(left, TimeUnit.NANOSECONDS);
        } catch (Exception ignored) {
            // the caller kills it
        }
    }

    /**
     * Owns one server process and its directories, and stops/deletes them when closed or when the
     * JVM exits. Register it (construct it) <em>before</em> creating the directories and start the
     * process through {@link #start}, so that no SIGTERM to the JVM can leave an orphan server: either
     * the process is started before the shutdown hook runs (and the hook stops it), or the hook ran
     * first and {@link #start} refuses.
     */
    static final class Cleanup implements AutoCloseable {
        private final Consumer<Process> stopper;
        private final List<Path> directories = new CopyOnWriteArrayList<>();
        private final Thread hook;
        private Process process;
        private boolean stopped;
        private boolean closed;

        /** @param stopper how to stop the process gracefully (then whatever is left gets SIGKILL) */
        Cleanup(String name, Consumer<Process> stopper) {
            this.stopper = stopper;
            this.hook = new Thread(this::closeQuietly, name + "-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
        }

        /** Deletes {@code dir} (recursively) on {@link #close()}. */
        Path deleteOnClose(Path dir) {
            directories.add(dir);
            return dir;
        }

        synchronized Process start(ProcessBuilder pb) throws IOException {
            if (closed || process != null) {
                throw new IllegalStateException(closed ? "the JVM is shutting down" : "already started");
            }
            pb.command(inOwnSession(pb.command()));
            process = pb.start();
            return process;
        }

        /**
         * From now on only {@link #close()} stops the process, not the JVM's exit: for an owner that stops several
         * servers in an order of its own (the dev stack: agent, server, then Elasticsearch and PostgreSQL).
         */
        void closeOnlyExplicitly() {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException ignored) {
                // the JVM is shutting down: the hook runs anyway
            }
        }

        /** Stops the process (if any, once); keeps the directories. */
        synchronized void stop() {
            if (process == null || stopped) {
                return;
            }
            stopped = true;
            try {
                stopper.accept(process);
            } finally {
                stopTree(process, 10_000);
            }
        }

        /** Stops the process and deletes the directories. Idempotent. */
        @Override
        public synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            try {
                stop();
            } finally {
                for (Path dir : directories) {
                    deleteRecursively(dir);
                }
                if (Thread.currentThread() != hook) {
                    try {
                        Runtime.getRuntime().removeShutdownHook(hook);
                    } catch (IllegalStateException ignored) {
                        // the JVM is shutting down
                    }
                }
            }
        }

        private void closeQuietly() {
            try {
                close();
            } catch (RuntimeException e) {
                e.printStackTrace();
            }
        }
    }

    /**
     * {@code command} run in a session of its own ({@code setsid}, where it exists): Ctrl-C in a terminal then
     * reaches only the JVM, whose shutdown stops its servers in order, instead of every process at once.
     * {@code setsid} execs the command in place (a child of the JVM leads no process group), so the pid stays.
     */
    public static List<String> inOwnSession(List<String> command) {
        if (!Files.isExecutable(SETSID) || command.isEmpty() || command.get(0).equals(SETSID.toString())) {
            return command;
        }
        List<String> wrapped = new java.util.ArrayList<>(command.size() + 1);
        wrapped.add(SETSID.toString());
        wrapped.addAll(command);
        return wrapped;
    }

    private static final Path SETSID = Path.of("/usr/bin/setsid");

    /** Deletes a directory tree (not following symlinks); logs nothing, never throws; returns false if something is left. */
    public static boolean deleteRecursively(Path dir) {
        if (dir == null || !Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return true;
        }
        try {
            Files.walkFileTree(dir, new java.nio.file.SimpleFileVisitor<>() {
                @Override
                public java.nio.file.FileVisitResult visitFile(
                        Path file, java.nio.file.attribute.BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return java.nio.file.FileVisitResult.CONTINUE;
                }

                @Override
                public java.nio.file.FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                    Files.deleteIfExists(d);
                    return java.nio.file.FileVisitResult.CONTINUE;
                }
            });
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
