-- The outbox is a queue: rows arrive and leave in bursts. Keep its statistics and dead tuples in check
-- far more often than the defaults (20 % of the table) so the claim keeps its index plan.
ALTER TABLE outbox SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.01,
                        autovacuum_vacuum_threshold = 1000, autovacuum_analyze_threshold = 1000);
