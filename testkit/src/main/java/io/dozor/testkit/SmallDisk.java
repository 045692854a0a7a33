package io.dozor.testkit;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real, tiny filesystem that fills up on demand: a size-limited tmpfs mounted on a directory (Linux, root).
 * {@link #fill()} writes a filler file until the kernel answers "no space left", {@link #free()} deletes it.
 * Tests that need one call {@link #mount} and skip when it throws, unless {@link #required()} (CI sets
 * {@value #REQUIRED_ENV}, so there a machine that cannot mount fails the build instead of skipping).
 */
public final class SmallDisk implements AutoCloseable {
    public static final String REQUIRED_ENV = "DOZOR_REQUIRE_SMALL_DISK";
    private static final String FILLER = ".filler";

    private final Path dir;

    private SmallDisk(Path dir) {
        this.dir = dir;
    }

    /** Whether a test must fail, not skip, when no small disk can be mounted. */
    public static boolean required() {
        return "1".equals(System.getenv(REQUIRED_ENV));
    }

    /**
     * Mounts a tmpfs of {@code kilobytes} on {@code dir} (created if needed).
     *
     * @throws IllegalStateException saying why it cannot (not Linux, not root, mount refused)
     */
    public static SmallDisk mount(Path dir, int kilobytes) {
        if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
            throw new IllegalStateException("a small tmpfs needs Linux");
        }
        if (!Unprivileged.isRoot()) {
            throw new IllegalStateException("mounting a small tmpfs needs root");
        }
        try {
            Files.createDirectories(dir);
            run("mount", "-t", "tmpfs", "-o", "size=" + kilobytes + "k,mode=0755", "tmpfs", dir.toString());
        } catch (IOException e) {
            throw new IllegalStateException("cannot mount a tmpfs on " + dir + ": " + e.getMessage(), e);
        }
        return new SmallDisk(dir);
    }

    /**
     * {@link #mount}, or, when that cannot be done and is not {@link #required()}, {@code skip} with the reason
     * (a test passes its framework's "skip", e.g. {@code reason -> assumeTrue(false, reason)}, which throws).
     */
    public static SmallDisk mountOrSkip(Path dir, int kilobytes, java.util.function.Consumer<String> skip) {
        try {
            return mount(dir, kilobytes);
        } catch (IllegalStateException e) {
            if (required()) {
                throw e;
            }
            skip.accept("skipped: " + e.getMessage());
            throw e;
        }
    }

    public Path dir() {
        return dir;
    }

    /** Writes a filler file until the filesystem is full; returns the bytes written. */
    public long fill() {
        long written = 0;
        byte[] block = new byte[1024];
        try (OutputStream out =
                Files.newOutputStream(dir.resolve(FILLER), StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            while (true) {
                out.write(block);
                out.flush();
                written += block.length;
            }
        } catch (IOException full) {
            return written; // "No space left on device"
        }
    }

    /** Deletes the filler: the space is back. */
    public void free() {
        try {
            Files.deleteIfExists(dir.resolve(FILLER));
        } catch (IOException e) {
            throw new IllegalStateException("cannot delete the filler in " + dir, e);
        }
    }

    /** Unmounts (lazily, so a process still holding a file there does not stop it). */
    @Override
    public void close() {
        try {
            run("umount", "-l", dir.toString());
        } catch (IOException e) {
            throw new IllegalStateException("cannot unmount " + dir + ": " + e.getMessage(), e);
        }
    }

    private static void run(String... command) throws IOException {
        Process p =
                new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes()).trim();
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
