// Package synth generates parity's deterministic synthetic shadow logs: a
// Hive-partitioned Parquet dataset of paired legacy/AI outputs for four
// features, a late-arriving labels dataset, and a dual-write
// reconciliation scenario. The data carries known defects, and Generate
// returns the generator's true rates for every class (Summary.Features,
// with both the probabilities drawn from and the exact counts drawn) so
// tests and demos can check that an evaluation recovers them.
//
// # Scenario (defaults: 35 days from 2026-10-01, day N = October N)
//
//   - ticket_routing (billing/technical/account/sales/fraud ~2%): email,
//     chat, phone_transcript, web_form at parity (agreement ~0.98, AI
//     accuracy within a point of legacy, mostly above); spanish clearly
//     worse (agreement ~0.79, accuracy 0.88 legacy vs 0.72 AI: fail);
//     legal_notice 3-8 rows a day at any Scale (insufficient_data); on
//     fraud the AI's recall is ~30 points below legacy's in every class.
//     chat input_tokens median x1.6 from day 24 (input drift only).
//   - refund_approval (approve/deny): parity everywhere (agreement
//     0.985-0.99, equal accuracy), >= 1500 rows per class per day at Scale
//     1, so it graduates; inline label_category on ~40% of rows;
//     served_by ai ~20% instead of ~10% on days 30-32.
//   - invoice_extraction (JSON amount/currency/vendor): v1 at parity
//     (amount agreement 0.95-0.985 within 0.01) until day 27; model v2
//     from day 28: scanned 0.70 and handwritten 0.68, AI error rate 6%
//     there, and ai_confidence lower in every class: rollback after the
//     failing windows of days 28 and 29.
//   - reply_draft (text): AI paraphrases (token F1 0.87-0.94) except
//     complaint (F1 ~0.31: fail); ai_cost 5x on days 20-23.
//   - labels for ticket_routing (45%) and refund_approval (35%) arrive 1-5
//     days after the request, so days 31-35 are partly labelled.
//   - recon runs 01-05 (~20k entities each): identical stores except
//     invoices from run 03: ~0.8-1% with a gross (x1.19) amount in the
//     new store and a handful missing from it.
//
// Everything is drawn from per-(feature, class, day) random streams derived
// from Options.Seed, so the same Options always produce byte-identical files
// whatever the scheduling of the parallel day workers.
package synth
