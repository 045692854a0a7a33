package io.dozor.server.notify.bot;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.server.notify.Mute;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Verifies how command texts from Telegram are read, including the bad ones. */
class CommandTest {
    static final Duration DEFAULT = Duration.ofHours(1);

    static Command parse(String text) {
        return Command.parse(text, DEFAULT).orElseThrow();
    }

    @Test
    void muteTakesAnOptionalDurationAndAnOptionalTarget() {
        assertThat(parse("/mute")).isEqualTo(new Command.MuteCmd(DEFAULT, Mute.Kind.ALL, ""));
        assertThat(parse("/mute 30m")).isEqualTo(new Command.MuteCmd(Duration.ofMinutes(30), Mute.Kind.ALL, ""));
        assertThat(parse("/mute@dozor_bot 2h chrome.exe"))
                .isEqualTo(new Command.MuteCmd(Duration.ofHours(2), Mute.Kind.ANY, "chrome.exe"));
        assertThat(parse("/mute user ivanov")).isEqualTo(new Command.MuteCmd(DEFAULT, Mute.Kind.USER, "ivanov"));
        assertThat(parse("/mute 1d process:chrome"))
                .isEqualTo(new Command.MuteCmd(Duration.ofDays(1), Mute.Kind.PROCESS, "chrome"));
        assertThat(parse("/MUTE agent pc-01")).isEqualTo(new Command.MuteCmd(DEFAULT, Mute.Kind.AGENT, "pc-01"));
    }

    @Test
    void commandsAddressedToAnotherBotAreIgnoredOnceOurNameIsKnown() {
        Optional<String> us = Optional.of("Dozor_Bot");
        assertThat(Command.parse("/status@other_bot", DEFAULT, us)).isEmpty();
        assertThat(Command.parse("/status@dozor_bot", DEFAULT, us)).contains(new Command.Status());
        assertThat(Command.parse("/status", DEFAULT, us)).contains(new Command.Status());
        assertThat(Command.parse("/status@other_bot", DEFAULT, Optional.empty()))
                .contains(new Command.Status());
    }

    @Test
    void badArgumentsGetAnExplanationNotAnAction() {
        assertThat(parse("/mute 5x")).isInstanceOf(Command.Invalid.class);
        assertThat(parse("/mute 0s")).isInstanceOf(Command.Invalid.class);
        assertThat(parse("/mute 99999999d")).isInstanceOf(Command.Invalid.class);
        // a bare number is seconds, under the same ten-year cap
        assertThat(parse("/mute 999999999")).isInstanceOf(Command.Invalid.class);
        assertThat(parse("/mute 315360001 chrome.exe")).isInstanceOf(Command.Invalid.class);
        assertThat(parse("/mute 315360000")).isEqualTo(new Command.MuteCmd(Duration.ofDays(3650), Mute.Kind.ALL, ""));
        assertThat(parse("/mute user")).isInstanceOf(Command.Invalid.class);
        assertThat(parse("/mute user a b")).isInstanceOf(Command.Invalid.class);
        assertThat(parse("/mute user:")).isInstanceOf(Command.Invalid.class);
        assertThat(parse("/mute " + "x".repeat(300))).isInstanceOf(Command.Invalid.class);
        assertThat(parse("/status now")).isInstanceOf(Command.Invalid.class);
        assertThat(parse("/rm -rf")).isInstanceOf(Command.Invalid.class);
        assertThat(parse("/")).isInstanceOf(Command.Invalid.class);
    }

    @Test
    void unmuteWithoutArgumentsMeansEveryMute() {
        assertThat(parse("/unmute")).isEqualTo(new Command.Unmute(Optional.empty(), ""));
        assertThat(parse("/unmute user ivanov")).isEqualTo(new Command.Unmute(Optional.of(Mute.Kind.USER), "ivanov"));
        assertThat(parse("/unmute all")).isEqualTo(new Command.Unmute(Optional.of(Mute.Kind.ALL), ""));
    }

    @Test
    void plainTextIsNotACommand() {
        assertThat(Command.parse("hello /status", DEFAULT)).isEmpty();
        assertThat(Command.parse(null, DEFAULT)).isEmpty();
        assertThat(parse("/help")).isInstanceOf(Command.Help.class);
        assertThat(parse("/status")).isInstanceOf(Command.Status.class);
        assertThat(parse("/mutes")).isInstanceOf(Command.Mutes.class);
    }

    @Test
    void muteMatchesByKindIgnoringCaseAndExe() {
        var e = new io.dozor.server.model.StoredEvent(
                1,
                "pc-01",
                new io.dozor.server.model.LaunchEvent(
                        java.util.UUID.randomUUID(),
                        java.time.OffsetDateTime.now(),
                        "Ivanov",
                        "Chrome.exe",
                        1L,
                        null,
                        "PC-01"));
        assertThat(new Mute(Mute.Kind.PROCESS, "chrome", null).matches(e)).isTrue();
        assertThat(new Mute(Mute.Kind.USER, "chrome", null).matches(e)).isFalse();
        assertThat(new Mute(Mute.Kind.ANY, "pc-01", null).matches(e)).isTrue();
        assertThat(new Mute(Mute.Kind.AGENT, "ivanov", null).matches(e)).isFalse();
    }
}
