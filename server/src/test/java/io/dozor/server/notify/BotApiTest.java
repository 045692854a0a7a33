package io.dozor.server.notify;

import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.testkit.FakeTelegram;
import io.vertx.core.Vertx;
import io.vertx.ext.web.client.WebClient;
import java.net.URI;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BotApiTest {
    @Test
    void errorDescriptionsNeverCarryTheBotToken() {
        BotApi api = new BotApi(null, null, URI.create("https://api.telegram.org"), "123456:AAE-secret_token", null);
        String described = api.describe(
                new RuntimeException(
                        "The timeout period of 10000ms has been exceeded while executing POST /bot123456:AAE-secret_token/sendMessage"));
        assertThat(described)
                .doesNotContain("AAE-secret_token")
                .isEqualTo(
                        "The timeout period of 10000ms has been exceeded while executing POST /bot<bot-token>/sendMessage");
    }

    /** A 400 about the chat parks the chat's whole backlog; any other 400 only the message refused. */
    @Test
    void a400AboutTheChatIsTheChatsAnyOtherIsTheMessages() {
        for (String chat : new String[] {
            "Bad Request: chat not found",
            "Bad Request: PEER_ID_INVALID",
            "Bad Request: group chat was upgraded to a supergroup chat",
            "Bad Request: CHAT_WRITE_FORBIDDEN",
            "Bad Request: not enough rights to send text messages to the chat"
        }) {
            assertThat(BotApi.aboutTheChat(chat)).as(chat).isTrue();
        }
        for (String message : new String[] {
            "Bad Request: message is too long",
            "Bad Request: message text is empty",
            "Bad Request: can't parse entities: unsupported start tag",
            "Bad Request: TEXT_INVALID"
        }) {
            assertThat(BotApi.aboutTheChat(message)).as(message).isFalse();
        }
    }

    /** The Bot API takes 4096 characters a message: a longer text (a big digest) goes in parts, in order. */
    @Test
    void aTextLongerThanTelegramAllowsIsSentInPartsUnderTheLimit() {
        List<String[]> launches = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            launches.add(NotifyCoreTest.l("10:15:00", "user" + i + "_" + "x".repeat(100), "chrome.exe"));
        }
        String digest = NotifyCoreTest.FORMATTER.digest(NotifyCoreTest.batch(launches.toArray(String[][]::new)).stream()
                .map(i -> i.event())
                .toList());
        FakeTelegram telegram = FakeTelegram.start("4242:TEST-token");
        Vertx vertx = Vertx.vertx();
        try {
            var api = new BotApi(
                    vertx,
                    WebClient.create(vertx),
                    URI.create(telegram.apiUrl()),
                    "4242:TEST-token",
                    new RateLimiter(Clock.systemUTC()));
            assertThat(api.sendMessage(42, digest).await().sent()).isTrue();
            var parts = telegram.messages();
            assertThat(parts).hasSizeGreaterThan(1);
            assertThat(parts).allSatisfy(p -> assertThat(p.text().length()).isLessThanOrEqualTo(4096));
            assertThat(parts).allSatisfy(p -> assertThat(p.chatId()).isEqualTo(42L));
            String all =
                    String.join(" ", parts.stream().map(FakeTelegram.Sent::text).toList());
            assertThat(all).startsWith("60 запусков за 10:15–10:15: ").isEqualTo(digest);
            for (int i = 0; i < 60; i++) {
                assertThat(all).contains("user" + i + "_" + "x".repeat(100) + " — chrome.exe ×1");
            }
        } finally {
            vertx.close().await();
            telegram.close();
        }
    }
}
