#!/usr/bin/env bash
# demo-s3.sh: the parity demo with every location on S3.
#
#   make demo-s3                 # or: scripts/demo-s3.sh [DIR]
#
# Starts (or reuses) the local versitygw S3 server of scripts/s3server.sh,
# which checks SigV4 signatures like AWS; creates a bucket; generates the
# synthetic shadow log with `parity demo` (into DIR, default demo-data);
# uploads logs, labels and the reconciliation snapshots with `parity cp`;
# then runs `parity backfill` with source, labels, reconcile locations and
# output all s3:// URIs, prints the verdicts, and copies the outputs back
# to DIR-s3-out so they can be inspected.
#
# The server is stopped at the end unless it was already running before
# (or PARITY_DEMO_S3_KEEP=1): `eval "$(scripts/s3server.sh env)"` then
# gives its endpoint and keys. Needs bin/parity (make build) and curl
# (7.75+, for --aws-sigv4) to create the bucket.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
dir="${1:-demo-data}"
parity="$root/bin/parity"
bucket="parity-demo"

log() { echo "demo-s3: $*" >&2; }

[[ -x "$parity" ]] || { log "bin/parity not found; run 'make build'"; exit 1; }
command -v curl >/dev/null || { log "curl not found (needed to create the bucket)"; exit 1; }

# A server someone else started is theirs to stop.
if scripts/s3server.sh env >/dev/null 2>&1; then
	owned=0
else
	owned=1
fi
eval "$(scripts/s3server.sh start)"
if [[ "$owned" == 1 && "${PARITY_DEMO_S3_KEEP:-0}" != 1 ]]; then
	trap 'scripts/s3server.sh stop' EXIT
fi
# parity reads the endpoint, keys and region from the standard AWS
# variables; nothing S3-specific goes into the config but the URIs.
export AWS_ENDPOINT_URL_S3="$PARITY_TEST_S3_ENDPOINT"
unset AWS_PROFILE AWS_SESSION_TOKEN
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

# CreateBucket, signed (S3 wants the empty body's SHA-256 as a header); 409 means it exists already (a rerun).
code="$(curl -sS -o /dev/null -w '%{http_code}' -X PUT \
	--aws-sigv4 "aws:amz:${AWS_REGION}:s3" --user "${AWS_ACCESS_KEY_ID}:${AWS_SECRET_ACCESS_KEY}" \
	-H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
	"$PARITY_TEST_S3_ENDPOINT/$bucket")"
case "$code" in
200 | 409) log "bucket s3://$bucket ready at $PARITY_TEST_S3_ENDPOINT" ;;
*) log "create bucket $bucket: HTTP $code"; exit 1 ;;
esac

# Local data first (the local demo also evaluates it; only its first
# line matters here).
gen="$("$parity" demo --dir "$dir" --log-level error)"
gen="${gen%%$'\n'*}"
echo "$gen"
span="$(sed -n 's/.*(\([0-9-]*\) to \([0-9-]*\))$/\1 \2/p' <<<"$gen")"
from="${span% *}"
to="${span#* }"
[[ -n "$from" && -n "$to" ]] || { log "could not read the data's date range from: $gen"; exit 1; }

for sub in logs labels recon; do
	"$parity" cp "$dir/$sub" "s3://$bucket/demo/$sub"
done

# The demo config with every location on S3, next to the local one.
cfg="$dir/parity-s3.yaml"
sed -e "s#^  logs: logs #  logs: s3://$bucket/demo/logs #" \
	-e "s#^  labels: labels #  labels: s3://$bucket/demo/labels #" \
	-e "s#^output: .*#output: s3://$bucket/demo-out#" \
	-e "s#^    legacy: recon/legacy #    legacy: s3://$bucket/demo/recon/legacy #" \
	-e "s#^    new: recon/new#    new: s3://$bucket/demo/recon/new#" \
	"$dir/parity.yaml" >"$cfg"
if [[ "$(grep -c "s3://$bucket/" "$cfg")" != 5 ]]; then
	log "expected 5 s3:// locations in $cfg (logs, labels, output, reconcile legacy/new); demo.yaml changed?"
	exit 1
fi
log "config with S3 locations: $cfg"

now="${to}T01:00:00Z"
"$parity" backfill --config "$cfg" --from "$from" --to "$to" --now "$now" --log-level warn

out="${dir%/}-s3-out"
rm -rf "$out"
"$parity" cp "s3://$bucket/demo-out" "$out"
echo
echo "outputs: s3://$bucket/demo-out (copied to $out)"
echo "verdicts: $out/verdicts/latest.json"
