DROP INDEX notifications_dedup_idx;
