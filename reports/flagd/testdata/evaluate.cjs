// evaluate.cjs loads a flagd flag-definitions file into flagd's own
// evaluation engine (@openfeature/flagd-core) and evaluates every flag for
// many request ids per input class, printing the counts of each variant as
// JSON. The Go tests run it as a subprocess; node finds the package through
// NODE_PATH (npm install --prefix .tools/node @openfeature/flagd-core@4).
//
// Usage: node evaluate.cjs FLAGS.json N CLASS[,CLASS...]
// A class named "-" evaluates without input_class in the context.
// PARITY_FLAGD_NOW=<Unix seconds> sets the clock the engine reads for
// $flagd.timestamp (Date.now), so a test can evaluate a flag before and
// after its valid_until; unset, the real clock.
// Exit 3 with the engine's message when the file is rejected.
'use strict';
const fs = require('fs');
const { FlagdCore } = require('@openfeature/flagd-core');

const [file, nArg, classArg] = process.argv.slice(2);
if (!file || !nArg || !classArg) {
  console.error('usage: node evaluate.cjs FLAGS.json N CLASS[,CLASS...]');
  process.exit(2);
}
const n = Number(nArg);
if (process.env.PARITY_FLAGD_NOW) {
  const now = Number(process.env.PARITY_FLAGD_NOW);
  if (!Number.isInteger(now)) {
    console.error(`PARITY_FLAGD_NOW=${process.env.PARITY_FLAGD_NOW}: want Unix seconds`);
    process.exit(2);
  }
  Date.now = () => now * 1000;
}
const classes = classArg.split(',');
const core = new FlagdCore();
try {
  // setConfigurations validates the file against flagd's JSON schema
  // (strictValidation = true: a schema violation throws rather than being
  // logged at debug level) and throws on an invalid flag configuration.
  core.setConfigurations(fs.readFileSync(file, 'utf8'), true);
} catch (e) {
  console.error(String(e && e.message ? e.message : e));
  process.exit(3);
}
const quiet = { error() {}, warn() {}, info() {}, debug() {} };
const out = { flags: {}, metadata: core.getFlagSetMetadata() };
for (const [key] of core.getFlags()) {
  const per = {};
  for (const cls of classes) {
    const counts = { ai: 0, legacy: 0, other: 0, reasons: {} };
    for (let i = 0; i < n; i++) {
      const ctx = { targetingKey: `req-${i}` };
      if (cls !== '-') ctx.input_class = cls;
      const r = core.resolveStringEvaluation(key, 'DEFAULT', ctx, quiet);
      if (r.value === 'ai') counts.ai++;
      else if (r.value === 'legacy') counts.legacy++;
      else counts.other++;
      counts.reasons[r.reason] = (counts.reasons[r.reason] || 0) + 1;
    }
    per[cls] = counts;
  }
  const meta = core.resolveStringEvaluation(key, 'DEFAULT', {}, quiet).flagMetadata;
  out.flags[key] = { classes: per, metadata: meta };
}
process.stdout.write(JSON.stringify(out));
