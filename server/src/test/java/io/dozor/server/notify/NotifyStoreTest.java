package io.dozor.server.notify;

import static io.dozor.server.notify.NotifyCoreTest.batch;
import static io.dozor.server.notify.NotifyCoreTest.l;
import static org.assertj.core.api.Assertions.assertThat;

import io.dozor.server.config.ServerConfig;
import io.dozor.server.outbox.OutboxItem;
import io.dozor.server.store.Migrations;
import io.dozor.server.store.Postgres;
import io.dozor.testkit.PostgresDatabase;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Verifies the notifications' SQL on a real PostgreSQL (no server): the threshold's counts, the cooldown's
 * pairs, the held rows and the mutes, as the sink and the bot read and write them.
 */
class NotifyStoreTest {
    static PostgresDatabase db;
    static Vertx vertx;
    static Pool pool;
    static NotifyStore store;

    @BeforeAll
    static void setUp() {
        db = PostgresDatabase.create();
        vertx = Vertx.vertx();
        pool = Postgres.pool(vertx, new ServerConfig.Postgres(db.url(), 2));
        Migrations.migrate(vertx, pool).await();
        store = new NotifyStore(pool);
    }

    @AfterAll
    static void tearDown() {
        try {
            if (vertx != null) {
                vertx.close().await();
            }
        } finally {
            db.close();
        }
    }

    static void insertEvents(List<OutboxItem> items) {
        for (OutboxItem item : items) {
            var l = item.event().launch();
            db.execute("INSERT INTO events (event_id, \"timestamp\", username, process_name, agent_id) VALUES ('"
                    + l.eventId() + "', '" + l.timestamp() + "', '" + l.username() + "', '" + l.processName()
                    + "', 'pc-01')");
        }
    }

    @Test
    void thresholdCountsEachPairsLaunchesInTheWindowEndingAtEachLaunch() {
        var items = batch(
                l("10:00:00", "ivanov", "chrome.exe"),
                l("10:00:10", "ivanov", "chrome.exe"),
                l("10:00:20", "ivanov", "chrome.exe"),
                l("11:00:00", "petrov", "chrome.exe"),
                l("11:00:50", "petrov", "chrome.exe"),
                l("11:02:00", "petrov", "chrome.exe"));
        insertEvents(items);
        var rules = NotifyCoreTest.threshold(3, Duration.ofMinutes(1));

        var pairs =
                pool.withTransaction(tx -> store.pairState(tx, rules, items)).await();
        assertThat(pairs.counts()).isEqualTo(Map.of(1L, 1L, 2L, 2L, 3L, 3L, 4L, 1L, 5L, 2L, 6L, 1L));
        assertThat(pairs.lastNotified()).as("no cooldown: not read").isEmpty();
        var plan = NotifyCore.plan(
                rules,
                NotifyCore.screen(rules, items, List.of(), NotifyCoreTest.NOW),
                Set.of(),
                pairs,
                NotifyCoreTest.FORMATTER);
        assertThat(NotifyCoreTest.texts(plan)).containsExactly(NotifyCoreTest.text("10:00:20", "ivanov", "chrome.exe"));
    }

    @Test
    void cooldownPairsAreRecordedPerChatAndNeverGoBack() {
        var rules = NotifyCoreTest.cooldown(Duration.ofMinutes(1));
        var ivanov = new NotifyCore.Pair("ivanov", "notepad.exe");
        OffsetDateTime ten = OffsetDateTime.parse("2026-11-27T10:00:00+03:00");
        pool.withTransaction(
                        tx -> store.record(tx, "telegram:42", 42, outcome(List.of(), List.of(), Map.of(ivanov, ten))))
                .await();
        pool.withTransaction(tx -> store.record(
                        tx, "telegram:42", 42, outcome(List.of(), List.of(), Map.of(ivanov, ten.minusHours(1)))))
                .await();

        var items = batch(l("10:00:30", "ivanov", "notepad.exe"), l("10:00:30", "petrov", "notepad.exe"));
        var pairs =
                pool.withTransaction(tx -> store.pairState(tx, rules, items)).await();
        assertThat(pairs.lastNotified()).hasSize(1);
        assertThat(pairs.lastNotified().get(ivanov)).isAtSameInstantAs(ten);
        var otherChat = new NotifyCore.Rules(
                7,
                rules.filters(),
                rules.quietHours(),
                rules.zone(),
                false,
                1,
                rules.thresholdWindow(),
                rules.cooldown(),
                rules.digestAfter());
        assertThat(pool.withTransaction(tx -> store.pairState(tx, otherChat, items))
                        .await()
                        .lastNotified())
                .isEmpty();
        assertThat(pool.withTransaction(tx -> store.pairState(tx, rules, List.of()))
                        .await())
                .isEqualTo(NotifyCore.PairState.NONE);
    }

    @Test
    void heldRowsArePerSinkAndGoWhenDone() {
        var items = batch(
                100,
                l("10:00:00", "ivanov", "chrome.exe"),
                l("10:00:01", "ivanov", "chrome.exe"),
                l("10:00:02", "petrov", "explorer.exe"));
        pool.withTransaction(tx ->
                        store.record(tx, "telegram:42", 42, outcome(List.of(100L, 101L, 102L), List.of(), Map.of())))
                .await();
        assertThat(pool.withTransaction(tx -> store.chatState(tx, "telegram:42", 42, items))
                        .await()
                        .held())
                .containsExactlyInAnyOrder(100L, 101L, 102L);
        assertThat(pool.withTransaction(tx -> store.chatState(tx, "telegram:43", 43, items))
                        .await()
                        .held())
                .isEmpty();

        pool.withTransaction(
                        tx -> store.record(tx, "telegram:42", 42, outcome(List.of(), List.of(100L, 101L), Map.of())))
                .await();
        assertThat(pool.withTransaction(tx -> store.chatState(tx, "telegram:42", 42, items))
                        .await()
                        .held())
                .containsExactly(102L);
    }

    @Test
    void mutesAreTheChatsOwnAndEndWhenLifted() {
        var until = store.mute(-100, Mute.Kind.PROCESS, "chrome", Duration.ofHours(2), 7)
                .await();
        store.mute(-100, Mute.Kind.ALL, "", Duration.ofMinutes(5), 7).await();
        assertThat(until).isAfter(OffsetDateTime.now().plusMinutes(119));
        assertThat(store.activeMutes(-100).await())
                .extracting(Mute::kind)
                .as("soonest to end first")
                .containsExactly(Mute.Kind.ALL, Mute.Kind.PROCESS);
        assertThat(pool.withTransaction(tx -> store.chatState(tx, "telegram:-100", -100, List.of()))
                        .await()
                        .mutes())
                .hasSize(2);
        assertThat(store.activeMutes(-101).await()).isEmpty();

        assertThat(store.unmute(-100, Optional.of(Mute.Kind.PROCESS), "CHROME").await())
                .isOne();
        assertThat(store.unmute(-100, Optional.of(Mute.Kind.PROCESS), "chrome").await())
                .isZero();
        assertThat(store.unmute(-100, Optional.empty(), "").await()).isOne();
        assertThat(store.activeMutes(-100).await()).isEmpty();
    }

    @Test
    void theBotsOffsetIsZeroAtFirstThenWhatWasSaved() {
        assertThat(store.botOffset().await()).isZero();
        store.saveBotOffset(5).await();
        store.saveBotOffset(6).await();
        assertThat(store.botOffset().await()).isEqualTo(6L);
    }

    static NotifyCore.Outcome outcome(
            List<Long> hold, List<Long> unhold, Map<NotifyCore.Pair, OffsetDateTime> notified) {
        return new NotifyCore.Outcome(List.of(), hold, unhold, notified);
    }
}
