// Package reconcile compares two snapshots of the same entities — an
// export or CDC snapshot of the legacy store and of the new store during a
// dual-write migration — and decides whether the new store is consistent
// enough to become the read primary, and eventually to retire the legacy
// store.
//
// One run reads both Parquet datasets (local or S3, through datasets and
// storage), keyed by an entity id with an entity-type column, and counts
// per entity type: keys only in legacy, only in new, present in both with
// a critical-field mismatch (field by field, with the scorers' comparators)
// and present in both and equal. The divergence rate gets an exact
// (Clopper–Pearson) interval and a one-sided exact binomial test against
// the configured tolerance (eval/stats), and each side gets an
// order-independent checksum of its critical fields.
//
// Memory is bounded: rows are encoded into a compact length-prefixed
// binary record and partitioned by a hash of the key; while the records of
// both sides fit in memory_limit_mb the partitions stay in memory,
// otherwise they are spilled to files in a temporary folder, and each
// partition pair is then sorted and merge-joined on its own (a grace hash
// join; an oversized partition is split again with further hash bits).
//
// Verdicts follow the evaluation's conventions (pass / fail /
// insufficient_data, eval.Alert, JSON null for absent figures). Streaks —
// consecutive failing runs per entity type, which raise an alert, and
// consecutive clean runs, which gate decommissioning — are always derived
// from the results stored under reconcile/<name>/ in the output store,
// never from process memory, so a fresh process, a rerun and `--all`
// agree. Layout of the output store:
//
//	reconcile/<name>/run=<id>/result.json    the run's full result
//	reconcile/<name>/run=<id>/scores.parquet the figures as reports.ScoreRow rows
//	reconcile/<name>/latest.json             the newest run's result, written last
package reconcile
