// Package reports renders evaluation results into the artifacts their
// consumers read: the scores history (Parquet), the verdicts document
// routers and flag systems read (JSON, with its JSON Schema), and the
// human-facing summaries. It only formats and writes; every figure comes
// from eval.
package reports
