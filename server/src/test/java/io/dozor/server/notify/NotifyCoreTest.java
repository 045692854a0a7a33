package io.dozor.server.notify;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.dozor.server.model.LaunchEvent;
import io.dozor.server.model.StoredEvent;
import io.dozor.server.outbox.Delivery;
import io.dozor.server.outbox.OutboxItem;
import io.dozor.server.rules.Filters;
import io.dozor.server.rules.QuietHours;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Verifies every rule of what a chat is told, on the pure decision alone (no server, no database): filters,
 * mutes, quiet hours (drop, hold, the digest after them), threshold, cooldown, digest, splitting, and what the
 * Bot API's answers make of each launch.
 */
class NotifyCoreTest {
    static final long CHAT = 42L;
    static final ZoneId MOSCOW = ZoneId.of("Europe/Moscow");
    /** 12:00 in Moscow; no quiet hours unless a test sets them. */
    static final Instant NOW = Instant.parse("2026-11-27T09:00:00Z");

    static final MessageFormatter FORMATTER = new MessageFormatter(MessageFormatterTest.DEFAULT, MOSCOW);
    /** Settings that exclude guests and kiosks (and, by default, the system's launches). */
    static final String GUESTS_AND_KIOSKS = """
        telegram:
          filters:
            exclude:
              user: ["guest*"]
              host: ["re:^KIOSK-\\\\d+$"]
        """;

    static final BotApi.Result SENT = new BotApi.Result(BotApi.Result.Kind.SENT, Duration.ZERO, null);

    /** The defaults of the settings: every launch but the system's, no threshold, no cooldown, digest after 10. */
    static NotifyCore.Rules rules() {
        return new NotifyCore.Rules(
                CHAT, Filters.DEFAULT, QuietHours.NONE, MOSCOW, false, 1, Duration.ofMinutes(10), Duration.ZERO, 10);
    }

    static NotifyCore.Rules with(NotifyCore.Rules r, Filters filters) {
        return new NotifyCore.Rules(
                r.chatId(),
                filters,
                r.quietHours(),
                r.zone(),
                r.quietDrop(),
                r.thresholdCount(),
                r.thresholdWindow(),
                r.cooldown(),
                r.digestAfter());
    }

    static NotifyCore.Rules quiet(String window, boolean drop) {
        NotifyCore.Rules r = rules();
        return new NotifyCore.Rules(
                CHAT,
                r.filters(),
                QuietHours.parse(List.of(window)),
                MOSCOW,
                drop,
                r.thresholdCount(),
                r.thresholdWindow(),
                r.cooldown(),
                r.digestAfter());
    }

    static NotifyCore.Rules threshold(int count, Duration window) {
        NotifyCore.Rules r = rules();
        return new NotifyCore.Rules(
                CHAT, r.filters(), r.quietHours(), MOSCOW, false, count, window, r.cooldown(), r.digestAfter());
    }

    static NotifyCore.Rules cooldown(Duration cooldown) {
        NotifyCore.Rules r = rules();
        return new NotifyCore.Rules(
                CHAT, r.filters(), r.quietHours(), MOSCOW, false, 1, r.thresholdWindow(), cooldown, r.digestAfter());
    }

    static NotifyCore.Rules digestAfter(int n) {
        NotifyCore.Rules r = rules();
        return new NotifyCore.Rules(
                CHAT, r.filters(), r.quietHours(), MOSCOW, false, 1, r.thresholdWindow(), r.cooldown(), n);
    }

    static Filters filters(String yaml) throws Exception {
        return Filters.parse(new ObjectMapper(new YAMLFactory())
                .readTree(yaml)
                .path("telegram")
                .path("filters"));
    }

    /** A batch as the outbox hands it over: {time of 2026-11-27 in Moscow, user, process[, host]}, pks from 1. */
    static List<OutboxItem> batch(String[]... launches) {
        return batch(1, launches);
    }

    static List<OutboxItem> batch(long firstPk, String[]... launches) {
        List<OutboxItem> items = new ArrayList<>();
        for (String[] l : launches) {
            long pk = firstPk + items.size();
            items.add(new OutboxItem(
                    new StoredEvent(
                            pk,
                            "pc-01",
                            new LaunchEvent(
                                    UUID.randomUUID(),
                                    OffsetDateTime.parse("2026-11-27T" + l[0] + "+03:00"),
                                    l[1],
                                    l[2],
                                    4312L,
                                    "C:\\Apps\\" + l[2],
                                    l.length > 3 ? l[3] : "PC-01")),
                    0));
        }
        return items;
    }

    static String[] l(String time, String user, String process) {
        return new String[] {time, user, process};
    }

    static String text(String time, String user, String process) {
        return "[2026-11-27 " + time + "] Пользователь " + user + " запустил " + process;
    }

    /** Screens and plans a batch with nothing held, no mutes and the given pair state. */
    static NotifyCore.Plan plan(NotifyCore.Rules rules, List<OutboxItem> items, NotifyCore.PairState pairs) {
        return NotifyCore.plan(rules, NotifyCore.screen(rules, items, List.of(), NOW), Set.of(), pairs, FORMATTER);
    }

    static NotifyCore.Plan plan(NotifyCore.Rules rules, List<OutboxItem> items) {
        return plan(rules, items, NotifyCore.PairState.NONE);
    }

    static List<String> texts(NotifyCore.Plan plan) {
        return plan.messages().stream().map(NotifyCore.Message::text).toList();
    }

    /** As the sink does: every message answered {@code result} while {@link NotifyCore#goesOn} says so. */
    static NotifyCore.Outcome answered(NotifyCore.Rules rules, NotifyCore.Plan plan, BotApi.Result... answers) {
        List<BotApi.Result> results = new ArrayList<>();
        for (int i = 0; i < plan.messages().size(); i++) {
            BotApi.Result r = answers[Math.min(i, answers.length - 1)];
            results.add(r);
            if (!NotifyCore.goesOn(r)) {
                break;
            }
        }
        return NotifyCore.settle(rules, plan, results, attempts -> Duration.ofSeconds(100 + attempts));
    }

    static Map<Long, Delivery> byPk(NotifyCore.Outcome outcome) {
        Map<Long, Delivery> out = new java.util.HashMap<>();
        outcome.deliveries()
                .forEach(d -> assertThat(out.put(d.eventPk(), d))
                        .as("one outcome per launch")
                        .isNull());
        return out;
    }

    @Test
    void eachLaunchIsOneMessageInOrderAndDoneWhenSent() {
        var items = batch(l("10:15:00", "ivanov", "chrome.exe"), l("10:15:01", "petrov", "explorer.exe"));
        var plan = plan(rules(), items);
        assertThat(texts(plan))
                .containsExactly(text("10:15:00", "ivanov", "chrome.exe"), text("10:15:01", "petrov", "explorer.exe"));
        var outcome = answered(rules(), plan, SENT);
        assertThat(outcome.deliveries())
                .extracting(Delivery::outcome)
                .containsOnly(Delivery.Outcome.DONE)
                .hasSize(2);
        assertThat(outcome.unhold()).containsExactlyInAnyOrder(1L, 2L);
        assertThat(outcome.hold()).isEmpty();
        assertThat(outcome.notified()).as("no cooldown, nothing to remember").isEmpty();
    }

    @Test
    void burstLargerThanDigestAfterBecomesOneDigest() {
        var items = batch(
                l("10:15:00", "ivanov", "chrome.exe"), l("10:15:30", "petrov", "explorer.exe"),
                l("10:16:00", "ivanov", "chrome.exe"), l("10:16:30", "sidorov", "telegram.exe"),
                l("10:17:00", "petrov", "explorer.exe"), l("10:17:30", "ivanov", "chrome.exe"),
                l("10:18:00", "sidorov", "telegram.exe"), l("10:18:30", "petrov", "explorer.exe"),
                l("10:19:00", "ivanov", "chrome.exe"), l("10:19:30", "sidorov", "telegram.exe"),
                l("10:20:00", "petrov", "explorer.exe"), l("10:20:59", "ivanov", "chrome.exe"));
        var plan = plan(digestAfter(5), items);
        assertThat(texts(plan))
                .containsExactly(
                        "12 запусков за 10:15–10:20: ivanov — chrome.exe ×5, petrov — explorer.exe ×4, sidorov — telegram.exe ×3");
        assertThat(answered(digestAfter(5), plan, SENT).deliveries())
                .hasSize(12)
                .allSatisfy(d -> assertThat(d.outcome()).isEqualTo(Delivery.Outcome.DONE));

        assertThat(texts(plan(digestAfter(12), items)))
                .as("digest_after itself is still one message each")
                .hasSize(12);
    }

    @Test
    void digestLongerThanTelegramAllowsIsSplitAtTheLimit() {
        List<String[]> launches = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            launches.add(l("10:15:00", "user" + i + "_" + "x".repeat(100), "chrome.exe"));
        }
        var plan = plan(digestAfter(1), batch(launches.toArray(String[][]::new)));
        assertThat(plan.messages()).hasSize(1);
        List<String> parts = TextSplitter.split(plan.messages().get(0).text(), TextSplitter.TELEGRAM_LIMIT);
        assertThat(parts).hasSizeGreaterThan(1);
        assertThat(parts).allSatisfy(p -> assertThat(p.length()).isLessThanOrEqualTo(4096));
        String all = String.join(" ", parts);
        assertThat(all).startsWith("60 запусков за 10:15–10:15: ");
        for (int i = 0; i < 60; i++) {
            assertThat(all).contains("user" + i + "_" + "x".repeat(100) + " — chrome.exe ×1");
        }
    }

    @Test
    void thresholdNotifiesFromTheNthLaunchOfAPairWithinTheWindow() {
        var rules = threshold(3, Duration.ofMinutes(1));
        var items = batch(
                l("10:00:00", "ivanov", "chrome.exe"),
                l("10:00:10", "ivanov", "chrome.exe"),
                l("10:00:20", "ivanov", "chrome.exe"),
                l("11:00:00", "petrov", "chrome.exe"),
                l("11:00:50", "petrov", "chrome.exe"),
                l("11:02:00", "petrov", "chrome.exe"));
        // what NotifyStore counts in events for these launches (NotifyStoreTest checks that it does)
        var counts = new NotifyCore.PairState(Map.of(1L, 1L, 2L, 2L, 3L, 3L, 4L, 1L, 5L, 2L, 6L, 1L), Map.of());
        var plan = plan(rules, items, counts);
        assertThat(texts(plan)).containsExactly(text("10:00:20", "ivanov", "chrome.exe"));
        assertThat(plan.settled()).extracting(Delivery::eventPk).containsExactly(1L, 2L, 4L, 5L, 6L);
        assertThat(plan.settled()).extracting(Delivery::outcome).containsOnly(Delivery.Outcome.DONE);
        assertThat(texts(plan(rules, items, NotifyCore.PairState.NONE)))
                .as("uncounted: below the threshold")
                .isEmpty();
    }

    @Test
    void cooldownSuppressesRepeatsOfAPairWithinABatchAndAcrossBatches() {
        var rules = cooldown(Duration.ofMinutes(1));
        var first = plan(
                rules,
                batch(
                        l("10:00:00", "ivanov", "chrome.exe"),
                        l("10:00:30", "ivanov", "chrome.exe"),
                        l("10:00:30", "petrov", "chrome.exe")));
        assertThat(texts(first))
                .containsExactly(text("10:00:00", "ivanov", "chrome.exe"), text("10:00:30", "petrov", "chrome.exe"));
        var recorded = answered(rules, first, SENT).notified();
        assertThat(recorded)
                .containsExactlyInAnyOrderEntriesOf(Map.of(
                        new NotifyCore.Pair("ivanov", "chrome.exe"), OffsetDateTime.parse("2026-11-27T10:00:00+03:00"),
                        new NotifyCore.Pair("petrov", "chrome.exe"),
                                OffsetDateTime.parse("2026-11-27T10:00:30+03:00")));

        var second = plan(
                rules,
                batch(10, l("10:00:59", "ivanov", "chrome.exe"), l("10:01:00", "ivanov", "chrome.exe")),
                new NotifyCore.PairState(Map.of(), recorded));
        assertThat(texts(second)).containsExactly(text("10:01:00", "ivanov", "chrome.exe"));
        assertThat(answered(rules, second, SENT).notified())
                .containsExactly(Map.entry(
                        new NotifyCore.Pair("ivanov", "chrome.exe"),
                        OffsetDateTime.parse("2026-11-27T10:01:00+03:00")));
    }

    @Test
    void cooldownRemembersOnlyWhatWasSentAndTheNewestLaunchOfEachPair() {
        var rules = cooldown(Duration.ofSeconds(10));
        var plan = plan(
                rules,
                batch(
                        l("10:00:00", "ivanov", "chrome.exe"),
                        l("10:00:20", "ivanov", "chrome.exe"),
                        l("10:00:30", "petrov", "chrome.exe")));
        var retry = new BotApi.Result(BotApi.Result.Kind.RETRY, null, "502 Bad Gateway");
        var outcome = answered(rules, plan, SENT, SENT, retry);
        assertThat(outcome.notified())
                .containsExactly(Map.entry(
                        new NotifyCore.Pair("ivanov", "chrome.exe"),
                        OffsetDateTime.parse("2026-11-27T10:00:20+03:00")));
        assertThat(answered(rules, plan, retry).notified()).isEmpty();
    }

    @Test
    void quietHoursHoldLaunchesAndReleaseThemAsOneDigest() {
        var quiet = quiet("11:00-12:00:08", false); // NOW is 12:00:00 in Moscow
        var items = batch(
                l("10:00:00", "ivanov", "chrome.exe"),
                l("10:01:00", "ivanov", "chrome.exe"),
                l("10:02:00", "petrov", "explorer.exe"));
        var screened = NotifyCore.screen(quiet, items, List.of(), NOW);
        assertThat(screened.pending()).isEmpty();
        assertThat(screened.hold()).containsExactly(1L, 2L, 3L);
        assertThat(screened.settled()).allSatisfy(d -> {
            assertThat(d.outcome()).isEqualTo(Delivery.Outcome.RETRY);
            assertThat(d.held()).isTrue();
            assertThat(d.retryAfter()).isEqualTo(Duration.ofSeconds(8));
            assertThat(d.error()).isEqualTo("held: quiet hours until 2026-11-27T09:00:08Z");
        });
        var held = NotifyCore.plan(quiet, screened, Set.of(), NotifyCore.PairState.NONE, FORMATTER);
        assertThat(held.messages()).isEmpty();
        var heldOutcome = NotifyCore.settle(quiet, held, List.of(), a -> Duration.ZERO);
        assertThat(heldOutcome.hold()).containsExactly(1L, 2L, 3L);
        assertThat(heldOutcome.unhold()).as("held rows stay while held").isEmpty();

        Instant after = NOW.plusSeconds(8);
        var released = NotifyCore.plan(
                quiet,
                NotifyCore.screen(quiet, items, List.of(), after),
                Set.of(1L, 2L, 3L),
                NotifyCore.PairState.NONE,
                FORMATTER);
        assertThat(texts(released))
                .containsExactly("3 запуска за 10:00–10:02: ivanov — chrome.exe ×2, petrov — explorer.exe ×1");
        var outcome = answered(quiet, released, SENT);
        assertThat(outcome.unhold()).containsExactlyInAnyOrder(1L, 2L, 3L);
        assertThat(outcome.hold()).isEmpty();
    }

    @Test
    void oneReleasedLaunchAmongNewOnesMakesTheWholeBatchADigest() {
        var items = batch(l("10:00:00", "ivanov", "chrome.exe"), l("10:00:01", "petrov", "chrome.exe"));
        var plan = NotifyCore.plan(
                rules(),
                NotifyCore.screen(rules(), items, List.of(), NOW),
                Set.of(2L),
                NotifyCore.PairState.NONE,
                FORMATTER);
        assertThat(texts(plan))
                .containsExactly("2 запуска за 10:00–10:00: ivanov — chrome.exe ×1, petrov — chrome.exe ×1");
    }

    @Test
    void quietHoursDropLaunchesWhenConfiguredTo() {
        var drop = quiet("00:00-23:59:59", true);
        var screened = NotifyCore.screen(drop, batch(l("10:00:00", "ivanov", "chrome.exe")), List.of(), NOW);
        assertThat(screened.pending()).isEmpty();
        assertThat(screened.hold()).isEmpty();
        var plan = NotifyCore.plan(drop, screened, Set.of(), NotifyCore.PairState.NONE, FORMATTER);
        assertThat(plan.messages()).as("nothing is sent").isEmpty();
        assertThat(NotifyCore.settle(drop, plan, List.of(), a -> Duration.ZERO).deliveries())
                .singleElement()
                .satisfies(d -> assertThat(d.outcome()).isEqualTo(Delivery.Outcome.DONE));
    }

    @Test
    void quietHoursAreTheChatsOwn() {
        var otherChat = new NotifyCore.Rules(
                CHAT,
                Filters.DEFAULT,
                QuietHours.parse(List.of("99=00:00-23:59:59")),
                MOSCOW,
                false,
                1,
                Duration.ofMinutes(10),
                Duration.ZERO,
                10);
        assertThat(texts(plan(otherChat, batch(l("10:00:00", "ivanov", "chrome.exe")))))
                .hasSize(1);
    }

    @Test
    void filtersFromYamlApplyAndAReloadedSetReplacesThem() throws Exception {
        Filters first = filters(GUESTS_AND_KIOSKS);
        var items = batch(
                l("10:00:00", "Guest1", "chrome.exe"),
                l("10:00:01", "ivanov", "chrome.exe"),
                l("10:00:02", "SYSTEM", "chrome.exe"),
                l("10:00:03", "NT AUTHORITY\\LOCAL SERVICE", "explorer.exe"),
                l("10:00:04", "PC-01$", "explorer.exe"),
                l("10:00:05", "petrov", "svchost.exe"),
                new String[] {"10:00:06", "petrov", "chrome.exe", "KIOSK-7"});
        var plan = plan(with(rules(), first), items);
        assertThat(texts(plan)).containsExactly(text("10:00:01", "ivanov", "chrome.exe"));
        assertThat(answered(rules(), plan, SENT).deliveries())
                .hasSize(7)
                .allSatisfy(d -> assertThat(d.outcome()).isEqualTo(Delivery.Outcome.DONE));

        Filters second = filters("""
        telegram:
          filters:
            include:
              process: [explorer.exe]
            exclude_system: false
        """);
        assertThat(texts(plan(
                        with(rules(), second),
                        batch(l("10:01:00", "Guest1", "chrome.exe"), l("10:01:01", "SYSTEM", "explorer.exe")))))
                .containsExactly(text("10:01:01", "SYSTEM", "explorer.exe"));
        assertThat(texts(plan(
                        with(rules(), second),
                        batch(l("10:02:00", "petrov", "explorer.exe"), l("10:02:01", "petrov", "chrome.exe")))))
                .containsExactly(text("10:02:00", "petrov", "explorer.exe"));
    }

    @Test
    void aLaunchFilteredOutAfterBeingHeldLosesItsHeldRow() throws Exception {
        Filters none = filters("telegram: {filters: {include: {user: [nobody]}}}");
        var rules = with(rules(), none);
        var items = batch(l("10:00:00", "ivanov", "chrome.exe"));
        var plan = NotifyCore.plan(
                rules,
                NotifyCore.screen(rules, items, List.of(), NOW),
                Set.of(1L),
                NotifyCore.PairState.NONE,
                FORMATTER);
        assertThat(plan.messages()).isEmpty();
        assertThat(NotifyCore.settle(rules, plan, List.of(), a -> Duration.ZERO).unhold())
                .containsExactly(1L);
    }

    @Test
    void mutesDropWhatTheyMatchOnly() {
        var items = batch(
                l("10:00:00", "ivanov", "chrome.exe"),
                l("10:00:01", "ivanov", "explorer.exe"),
                l("10:00:02", "petrov", "Chrome"));
        Instant until = NOW.plusSeconds(3600);
        var screened = NotifyCore.screen(rules(), items, List.of(new Mute(Mute.Kind.ANY, "chrome", until)), NOW);
        assertThat(screened.pending()).extracting(i -> i.event().id()).containsExactly(2L);
        assertThat(screened.settled()).extracting(Delivery::eventPk).containsExactly(1L, 3L);
        assertThat(NotifyCore.screen(rules(), items, List.of(new Mute(Mute.Kind.USER, "IVANOV", until)), NOW)
                        .pending())
                .extracting(i -> i.event().id())
                .containsExactly(3L);
        assertThat(NotifyCore.screen(rules(), items, List.of(new Mute(Mute.Kind.ALL, "", until)), NOW)
                        .pending())
                .isEmpty();
    }

    @Test
    void a429IsObeyedForThatMessageAndTheOnesBehindIt() {
        var plan =
                plan(rules(), batch(l("10:30:00", "smirnov", "chrome.exe"), l("10:30:01", "smirnov", "explorer.exe")));
        var tooMany = new BotApi.Result(
                BotApi.Result.Kind.RETRY, Duration.ofSeconds(3), "429 Too Many Requests: retry after 3");
        assertThat(NotifyCore.goesOn(tooMany)).as("the second is not sent").isFalse();
        var outcome = answered(rules(), plan, tooMany);
        assertThat(outcome.deliveries()).hasSize(2).allSatisfy(d -> {
            assertThat(d.outcome()).isEqualTo(Delivery.Outcome.RETRY);
            assertThat(d.retryAfter()).isEqualTo(Duration.ofSeconds(3));
            assertThat(d.held()).isFalse();
        });
        assertThat(outcome.unhold()).as("a retried launch keeps its held row").isEmpty();
    }

    @Test
    void aRetryWithoutRetryAfterBacksOffByTheItemsAttempts() {
        var plan = plan(rules(), batch(l("10:30:00", "smirnov", "chrome.exe")));
        var down = new BotApi.Result(BotApi.Result.Kind.RETRY, null, "telegram unreachable: connection refused");
        assertThat(answered(rules(), plan, down).deliveries()).singleElement().satisfies(d -> {
            assertThat(d.retryAfter()).isEqualTo(Duration.ofSeconds(100));
            assertThat(d.error()).isEqualTo("telegram unreachable: connection refused");
        });
    }

    @Test
    void chatThatBlockedTheBotParksTheWholeBacklogAfterOneAttempt() {
        var plan = plan(rules(), batch(l("11:00:00", "ivanov", "chrome.exe"), l("11:00:01", "petrov", "chrome.exe")));
        var blocked = new BotApi.Result(BotApi.Result.Kind.GONE, null, "403 Forbidden: bot was blocked by the user");
        assertThat(NotifyCore.goesOn(blocked)).as("one attempt only").isFalse();
        var outcome = answered(rules(), plan, blocked);
        assertThat(outcome.deliveries()).hasSize(2).allSatisfy(d -> {
            assertThat(d.outcome()).isEqualTo(Delivery.Outcome.PARK);
            assertThat(d.reason()).isEqualTo(Delivery.Reason.CHAT_GONE);
            assertThat(d.error()).startsWith("403 Forbidden: bot was blocked");
        });
        assertThat(outcome.unhold()).containsExactlyInAnyOrder(1L, 2L);
    }

    @Test
    void aMessageRefusedAloneIsParkedAloneAndTheNextIsSent() {
        var plan = plan(
                rules(),
                batch(
                        l("11:00:00", "ivanov", "chrome.exe"),
                        l("11:00:01", "poison", "chrome.exe"),
                        l("11:00:02", "petrov", "chrome.exe")));
        var refused = new BotApi.Result(BotApi.Result.Kind.REFUSED, null, "400 Bad Request: TEXT_INVALID");
        assertThat(NotifyCore.goesOn(refused)).isTrue();
        var outcome = byPk(answered(rules(), plan, SENT, refused, SENT));
        assertThat(outcome.get(1L).outcome()).isEqualTo(Delivery.Outcome.DONE);
        assertThat(outcome.get(2L).outcome()).isEqualTo(Delivery.Outcome.PARK);
        assertThat(outcome.get(2L).reason()).isEqualTo(Delivery.Reason.REFUSED);
        assertThat(outcome.get(2L).error()).isEqualTo("400 Bad Request: TEXT_INVALID");
        assertThat(outcome.get(3L).outcome()).isEqualTo(Delivery.Outcome.DONE);
    }

    @Test
    void aLaunchWhoseTextCannotBeMadeIsParkedAloneBeforeAnythingIsSent() throws Exception {
        var rules = with(rules(), filters("telegram: {filters: {exclude_system: false}}"));
        var items = batch(
                l("10:00:00", "ivanov", "chrome.exe"),
                l("10:00:01", null, "chrome.exe"),
                l("10:00:02", "petrov", "chrome.exe"));
        var plan = plan(rules, items);
        assertThat(texts(plan))
                .containsExactly(text("10:00:00", "ivanov", "chrome.exe"), text("10:00:02", "petrov", "chrome.exe"));
        assertThat(plan.unrendered())
                .singleElement()
                .satisfies(u -> assertThat(u.eventPk()).isEqualTo(2L));
        assertThat(plan.settled()).singleElement().satisfies(d -> {
            assertThat(d.eventPk()).isEqualTo(2L);
            assertThat(d.reason()).isEqualTo(Delivery.Reason.RENDER);
            assertThat(d.error()).startsWith("cannot render the message: NullPointerException");
        });
        assertThat(byPk(answered(rules, plan, SENT))).hasSize(3);
    }
}
