package io.dozor.server.http;

import io.dozor.server.bus.Addresses;
import io.dozor.server.bus.Messages;
import io.dozor.server.bus.Messages.EventsQuery;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;

/**
 * The admin API, behind admin tokens: {@code GET /api/v1/events} (filters {@code from}, {@code to},
 * {@code user}, {@code process}, {@code agent}; {@code limit} ≤ 1000; {@code cursor} from the previous
 * page's {@code next_cursor}) and {@code GET /api/v1/agents}.
 */
final class AdminRoutes {
    static final int DEFAULT_LIMIT = 100;
    static final int MAX_LIMIT = 1_000;

    private final Vertx vertx;

    private AdminRoutes(Vertx vertx) {
        this.vertx = vertx;
    }

    static void mount(Router router, Vertx vertx, List<Handler<RoutingContext>> guard) {
        AdminRoutes admin = new AdminRoutes(vertx);
        var events = router.get("/api/v1/events");
        guard.forEach(events::handler);
        events.handler(admin::events);
        var agents = router.get("/api/v1/agents");
        guard.forEach(agents::handler);
        agents.handler(admin::agents);
    }

    private void events(RoutingContext ctx) {
        EventsQuery query;
        try {
            query = query(ctx.queryParams());
        } catch (BadRequest e) {
            IngestVerticle.badRequest(ctx, TokenGuard.subject(ctx), e);
            return;
        }
        vertx.eventBus()
                .<JsonObject>request(Addresses.ADMIN_EVENTS, query, Messages.request())
                .onSuccess(reply -> ctx.json(reply.body()))
                .onFailure(ctx::fail);
    }

    private void agents(RoutingContext ctx) {
        vertx.eventBus()
                .<JsonObject>request(Addresses.ADMIN_AGENTS, null, Messages.request())
                .onSuccess(reply -> ctx.json(reply.body()))
                .onFailure(ctx::fail);
    }

    static EventsQuery query(MultiMap params) {
        return new EventsQuery(
                time(params, "from"),
                time(params, "to"),
                text(params, "user"),
                text(params, "process"),
                text(params, "agent"),
                cursor(params),
                limit(params));
    }

    private static OffsetDateTime time(MultiMap params, String name) {
        String v = params.get(name);
        if (v == null) {
            return null;
        }
        try {
            // "+03:00" typed into a URL unencoded arrives as " 03:00": a time has no spaces, so it can only mean "+"
            return OffsetDateTime.parse(v.replace(' ', '+'), DateTimeFormatter.ISO_OFFSET_DATE_TIME);
        } catch (DateTimeParseException e) {
            throw new BadRequest(
                    name,
                    "must be RFC 3339 with an offset, e.g. 2026-11-27T00:00:00Z or "
                            + "2026-11-27T00:00:00%2B03:00 (+ encoded)");
        }
    }

    /**
     * A filter matched against stored names: 1 to 256 characters, none a control character (NUL, which
     * PostgreSQL's text cannot hold, CR, LF…) or half of a surrogate pair.
     */
    private static String text(MultiMap params, String name) {
        String v = params.get(name);
        if (v == null) {
            return null;
        }
        if (v.isEmpty() || v.length() > 256) {
            throw new BadRequest(name, "must be 1 to 256 characters");
        }
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (Character.isISOControl(c)) {
                throw new BadRequest(
                        name, String.format("must not contain control characters (U+%04X at %d)", (int) c, i));
            }
            if (Character.isSurrogate(c)) {
                boolean paired =
                        Character.isHighSurrogate(c) && i + 1 < v.length() && Character.isLowSurrogate(v.charAt(i + 1));
                if (!paired) {
                    throw new BadRequest(
                            name, String.format("must not contain a lone surrogate (U+%04X at %d)", (int) c, i));
                }
                i++;
            }
        }
        return v;
    }

    private static Long cursor(MultiMap params) {
        String v = params.get("cursor");
        if (v == null) {
            return null;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new BadRequest("cursor", "must be the next_cursor of a previous page");
        }
    }

    private static int limit(MultiMap params) {
        String v = params.get("limit");
        if (v == null) {
            return DEFAULT_LIMIT;
        }
        try {
            int n = Integer.parseInt(v);
            if (n >= 1 && n <= MAX_LIMIT) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new BadRequest("limit", "must be a whole number from 1 to " + MAX_LIMIT);
    }
}
