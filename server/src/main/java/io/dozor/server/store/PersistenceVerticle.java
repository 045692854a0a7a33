package io.dozor.server.store;

import io.dozor.server.bus.Addresses;
import io.dozor.server.bus.Messages.Health;
import io.dozor.server.bus.Messages.Heartbeat;
import io.dozor.server.bus.Messages.StoreEvents;
import io.dozor.server.bus.Messages.StoreResult;
import io.dozor.server.bus.Messages.TokenCheck;
import io.dozor.server.bus.Messages.TokenStatus;
import io.dozor.server.model.LaunchEvent;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.sqlclient.DatabaseException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns writes of launch events: a batch is one statement (so one commit) that also queues the new
 * events for every sink, and only then is the request answered.
 */
public final class PersistenceVerticle extends VerticleBase {
    private static final Logger log = LoggerFactory.getLogger(PersistenceVerticle.class);

    private final Pool pool;
    private final String[] sinks;

    public PersistenceVerticle(Pool pool, List<String> sinks) {
        this.pool = pool;
        this.sinks = sinks.toArray(String[]::new);
    }

    @Override
    public Future<?> start() {
        var bus = vertx.eventBus();
        return Future.all(
                bus.<StoreEvents>consumer(Addresses.EVENTS_STORE, this::store).completion(),
                bus.<TokenCheck>consumer(Addresses.TOKENS_CHECK, this::checkToken)
                        .completion(),
                bus.<Heartbeat>consumer(Addresses.AGENTS_HEARTBEAT, this::heartbeat)
                        .completion(),
                bus.consumer(Addresses.HEALTH_POSTGRES, this::health).completion());
    }

    private void store(Message<StoreEvents> message) {
        StoreEvents request = message.body();
        insert(request)
                .onSuccess(result -> {
                    message.reply(result);
                    if (result.accepted() > 0) {
                        vertx.eventBus().publish(Addresses.OUTBOX_WAKE, null);
                    }
                })
                .onFailure(err -> {
                    log.warn(
                            "storing batch failed [agent={}, size={}, error={}]",
                            request.agentId(),
                            request.events().size(),
                            err.getMessage());
                    message.fail(503, "storage unavailable: " + err.getMessage());
                });
    }

    Future<StoreResult> insert(StoreEvents request) {
        List<LaunchEvent> events = request.events();
        int n = events.size();
        var ids = new UUID[n];
        var timestamps = new OffsetDateTime[n];
        var users = new String[n];
        var names = new String[n];
        var pids = new Long[n];
        var executables = new String[n];
        var hosts = new String[n];
        var parentPids = new Long[n];
        var parentNames = new String[n];
        var domains = new String[n];
        var osTypes = new String[n];
        var osFamilies = new String[n];
        var agentVersions = new String[n];
        for (int i = 0; i < n; i++) {
            LaunchEvent e = events.get(i);
            ids[i] = e.eventId();
            timestamps[i] = e.timestamp();
            users[i] = e.username();
            names[i] = e.processName();
            pids[i] = e.pid();
            executables[i] = e.executable();
            hosts[i] = e.hostname();
            LaunchEvent.Context c = e.context();
            parentPids[i] = c.parentPid();
            parentNames[i] = c.parentName();
            domains[i] = c.userDomain();
            osTypes[i] = c.osType();
            osFamilies[i] = c.osFamily();
            agentVersions[i] = c.agentVersion();
        }
        Tuple params = Tuple.of(ids, timestamps, users, names, pids, executables, hosts)
                .addString(request.agentId())
                .addArrayOfString(sinks)
                .addArrayOfLong(parentPids)
                .addArrayOfString(parentNames)
                .addArrayOfString(domains)
                .addArrayOfString(osTypes)
                .addArrayOfString(osFamilies)
                .addArrayOfString(agentVersions);
        return insertOnce(params, n)
                .recover(err -> movedUnderIt(err) ? insertOnce(params, n) : Future.failedFuture(err));
    }

    private Future<StoreResult> insertOnce(Tuple params, int n) {
        return pool.preparedQuery(Sql.INSERT_EVENTS).execute(params).map(rows -> {
            int accepted = rows.iterator().next().getLong("accepted").intValue();
            return new StoreResult(accepted, n - accepted);
        });
    }

    /**
     * The batch was routed to {@code events_default} while the retention run made that month's partition
     * ({@code events_ensure_month} locks the default partition, moves the month's rows, attaches the month): once
     * the lock is released the waiting insert meets the default's new bound and fails (23514). Sent again, it is
     * routed to the new partition; nothing of the failed attempt was written (one statement).
     */
    static boolean movedUnderIt(Throwable err) {
        return err instanceof DatabaseException db
                && "23514".equals(db.getSqlState())
                && String.valueOf(db.getMessage()).contains("events_default");
    }

    private void health(Message<Object> message) {
        pool.query(Sql.PING)
                .execute()
                .map(rows -> new Health(true, "ok"))
                .otherwise(err -> new Health(false, String.valueOf(err.getMessage())))
                .onSuccess(message::reply);
    }

    private void heartbeat(Message<Heartbeat> message) {
        Heartbeat h = message.body();
        pool.preparedQuery(Sql.AGENT_HEARTBEAT)
                .execute(Tuple.of(
                        h.agentId(),
                        h.hostname(),
                        h.version(),
                        h.spoolDepth(),
                        h.droppedEvents(),
                        h.unpersistedEvents(),
                        h.spoolError()))
                .onSuccess(done -> message.reply(null))
                .onFailure(err -> message.fail(503, "storage unavailable: " + err.getMessage()));
    }

    private void checkToken(Message<TokenCheck> message) {
        TokenCheck check = message.body();
        pool.preparedQuery(Sql.TOKEN_ACTIVE)
                .execute(Tuple.of(check.tokenId(), check.subject(), check.kind().column))
                .map(rows -> {
                    var it = rows.iterator();
                    if (!it.hasNext()) {
                        return new TokenStatus(false, 0);
                    }
                    Row row = it.next();
                    return isActive(row)
                            ? new TokenStatus(true, Math.max(0, row.getLong("remaining_ms")))
                            : new TokenStatus(false, 0);
                })
                .onSuccess(message::reply)
                .onFailure(err -> message.fail(503, "token store unavailable: " + err.getMessage()));
    }

    private static boolean isActive(Row row) {
        return Boolean.TRUE.equals(row.getBoolean("active"));
    }
}
