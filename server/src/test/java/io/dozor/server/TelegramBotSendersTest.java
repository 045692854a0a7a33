package io.dozor.server;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.dozor.server.notify.bot.BotVerticle;
import io.dozor.testkit.FakeTelegram;
import io.dozor.testkit.Wait;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.backends.BackendRegistries;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Verifies, against the fake Bot API, whom the bot obeys: in a group only the users of
 * {@code telegram.admin_user_ids}; never Telegram's own senders (0, 777000 forwarding a channel's posts,
 * 1087968824 standing for an anonymous admin), a message without {@code from}, a bot, or a post on behalf of a
 * chat; in a private chat of {@code chat_ids}, its user. Each refused message is a {@code /mute} that would leave a
 * row and an answer; a later command from an admin shows that none did.
 */
class TelegramBotSendersTest {
    static final long GROUP = -1001234567890L;
    static final long CHANNEL = -1009876543210L;
    static final long ADMIN = 7L;
    static final long MEMBER = 8L;
    static final long OWNER = 9L; // a user with a private chat with the bot
    static final Duration ANSWER = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    TestSupport t;

    final ListAppender<ILoggingEvent> refusals = new ListAppender<>();

    @BeforeEach
    void setUp() {
        refusals.start();
        ((Logger) LoggerFactory.getLogger(BotVerticle.class)).addAppender(refusals);
        t = new TestSupport(dir, List.of(GROUP, OWNER));
        t.env.put("DOZOR_TELEGRAM_ADMIN_USER_IDS", ADMIN + "," + OWNER);
        t.start();
    }

    @AfterEach
    void tearDown() {
        ((Logger) LoggerFactory.getLogger(BotVerticle.class)).detachAppender(refusals);
        t.close();
    }

    static JsonObject person(long id) {
        return new JsonObject().put("id", id).put("is_bot", false).put("first_name", "U" + id);
    }

    static JsonObject message(long chat, String type, JsonObject from, String text) {
        JsonObject m = new JsonObject()
                .put("message_id", 1)
                .put("date", 1764230400)
                .put("chat", new JsonObject().put("id", chat).put("type", type))
                .put("text", text);
        return from == null ? m : m.put("from", from);
    }

    /** Queues {@code message} as an update; returns the bot's answers after a probe from the admin. */
    List<String> answersAfter(JsonObject... messages) {
        int before = t.telegram.messages().size();
        for (JsonObject m : messages) {
            t.telegram.addUpdate(new JsonObject().put("message", m));
        }
        // updates are handled in order: once the probe is answered, every message before it was decided
        t.telegram.addUpdate(new JsonObject().put("message", message(GROUP, "supergroup", person(ADMIN), "/mutes")));
        Wait.until(
                "the answer to the probe",
                ANSWER,
                () -> t.telegram.messages().stream()
                        .skip(before)
                        .anyMatch(s -> s.text().startsWith("Заглуш")));
        return t.telegram.messages().stream()
                .skip(before)
                .map(FakeTelegram.Sent::text)
                .toList();
    }

    @Test
    void inAGroupOnlyListedPeopleAreObeyed() {
        assertThat(answersAfter(
                        message(GROUP, "supergroup", person(MEMBER), "/mute user member"),
                        message(GROUP, "supergroup", person(0), "/mute user zero"),
                        // a channel's post auto-forwarded into its discussion group
                        message(
                                        GROUP,
                                        "supergroup",
                                        person(777000L).put("first_name", "Telegram"),
                                        "/mute user forward")
                                .put("is_automatic_forward", true)
                                .put(
                                        "sender_chat",
                                        new JsonObject().put("id", CHANNEL).put("type", "channel")),
                        // an anonymous admin: from is GroupAnonymousBot, sender_chat the group itself
                        message(GROUP, "supergroup", person(1087968824L).put("is_bot", true), "/mute user anonymous")
                                .put(
                                        "sender_chat",
                                        new JsonObject().put("id", GROUP).put("type", "supergroup")),
                        // the same senders alone, each refused for what it is
                        message(GROUP, "supergroup", person(777000L), "/mute user service"),
                        message(GROUP, "supergroup", person(1087968824L), "/mute user anonymous-alone"),
                        message(GROUP, "supergroup", null, "/mute user nobody"),
                        message(GROUP, "supergroup", person(ADMIN).put("is_bot", true), "/mute user bot"),
                        // a listed admin posting as a channel he owns: the message is the channel's, not his
                        message(GROUP, "supergroup", person(ADMIN), "/mute user as-channel")
                                .put(
                                        "sender_chat",
                                        new JsonObject().put("id", CHANNEL).put("type", "channel")),
                        message(GROUP, "group", person(MEMBER), "/mute user basic-group"),
                        message(CHANNEL, "supergroup", person(ADMIN), "/mute user other-chat"),
                        message(MEMBER, "private", person(MEMBER), "/mute user unlisted-private")))
                .containsExactly("Заглушек нет.");
        assertThat(t.db.count("notify_mutes")).isZero();

        assertThat(answersAfter(message(GROUP, "supergroup", person(ADMIN), "/mute user ivanov")))
                .first()
                .asString()
                .startsWith("Заглушено: user ivanov");
        assertThat(t.db.count("notify_mutes")).isOne();
        // each refusal is one WARN line with its reason
        assertThat(String.join(
                        "\n",
                        refusals.list.stream()
                                .map(ILoggingEvent::getFormattedMessage)
                                .toList()))
                .contains(
                        "reason=sender not in telegram.admin_user_ids",
                        "reason=no sender",
                        "reason=sender is a bot",
                        "reason=sent on behalf of a chat",
                        "reason=sender is Telegram itself, not a person",
                        "reason=chat not in telegram.chat_ids");
    }

    @Test
    void metricsNeverNameAChat() {
        MeterRegistry registry = BackendRegistries.getDefaultNow();
        Wait.until(
                "the outbox gauges",
                ANSWER,
                () -> registry.find("dozor_outbox_depth").gauges().size() >= 2);
        assertThat(registry.find("dozor_outbox_depth").gauges())
                .extracting(g -> g.getId().getTag("sink"))
                .contains("elasticsearch", "telegram");
        assertThat(registry.getMeters())
                .flatExtracting(m -> m.getId().getTags())
                .noneMatch(tag -> tag.getValue().contains(Long.toString(-GROUP)));
    }

    @Test
    void aPrivateChatWorksAndGroupsObeyNoOneWithoutAdmins() {
        assertThat(answersAfter(message(OWNER, "private", person(OWNER), "/mute user petrov")))
                .first()
                .asString()
                .startsWith("Заглушено: user petrov");

        t.server.close();
        t.env.remove("DOZOR_TELEGRAM_ADMIN_USER_IDS");
        t.start();
        int before = t.telegram.messages().size();
        t.telegram.addUpdate(new JsonObject().put("message", message(GROUP, "supergroup", person(ADMIN), "/mute")));
        t.telegram.addUpdate(new JsonObject().put("message", message(OWNER, "private", person(OWNER), "/mutes")));
        Wait.until(
                "the answer in the private chat",
                ANSWER,
                () -> t.telegram.messages().size() > before);
        assertThat(t.telegram.messages().stream().skip(before))
                .singleElement()
                .satisfies(s -> assertThat(s.chatId()).isEqualTo(OWNER))
                .satisfies(s -> assertThat(s.text()).startsWith("Заглушки:\n• user petrov"));
    }
}
