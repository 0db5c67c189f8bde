#!/usr/bin/env bash
# s3server.sh runs versitygw, an S3-compatible server that enforces SigV4,
# on 127.0.0.1 for parity's integration tests and demos.
#
#   eval "$(scripts/s3server.sh start)"   # start (if not running), export its settings
#   scripts/s3server.sh env               # print the export line again
#   scripts/s3server.sh stop              # stop it and delete its data
#
# start prints one line, on stdout, for eval:
#   export PARITY_TEST_S3_ENDPOINT=http://127.0.0.1:PORT AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... AWS_REGION=us-east-1
# Progress goes to stderr. The server's data, pid, log and settings live in
# the git-ignored .s3data/ of the checkout.
#
# The Go tests do not need this script: storagetest.StartS3 starts its own
# server per test when PARITY_TEST_S3_ENDPOINT is unset. Use it to share
# one server across `go test` runs, or for the demo.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="$root/.s3data"
pidfile="$state/server.pid"
envfile="$state/server.env"
logfile="$state/server.log"

log() { echo "s3server: $*" >&2; }

find_bin() {
	if [[ -n "${VERSITYGW:-}" ]]; then echo "$VERSITYGW"; return; fi
	if [[ -x "$root/.tools/bin/versitygw" ]]; then echo "$root/.tools/bin/versitygw"; return; fi
	if command -v versitygw >/dev/null 2>&1; then command -v versitygw; return; fi
	log "versitygw not found; run 'make tools' (scripts/install-tools.sh)"
	exit 1
}

running() { [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 40000))
		if ! port_in_use "$p"; then echo "$p"; return; fi
	done
	log "no free port found"
	exit 1
}

start() {
	if running; then
		log "already running (pid $(cat "$pidfile"))"
		cat "$envfile"
		return
	fi
	local bin port ak sk pid
	bin="$(find_bin)"
	mkdir -p "$state/data"
	chmod 700 "$state"
	ak="PARITYTEST$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n' | tr a-f A-F)"
	sk="$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')"
	for _ in 1 2 3; do
		port="$(free_port)"
		ROOT_ACCESS_KEY="$ak" ROOT_SECRET_KEY="$sk" \
			nohup "$bin" --port "127.0.0.1:$port" --quiet posix "$state/data" >"$logfile" 2>&1 &
		pid=$!
		for _ in $(seq 1 150); do # 15 s
			if ! kill -0 "$pid" 2>/dev/null; then break; fi
			if port_in_use "$port"; then
				echo "$pid" >"$pidfile"
				echo "export PARITY_TEST_S3_ENDPOINT=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=$ak AWS_SECRET_ACCESS_KEY=$sk AWS_REGION=us-east-1" >"$envfile"
				chmod 600 "$envfile"
				log "versitygw ready on 127.0.0.1:$port (pid $pid, data $state/data)"
				cat "$envfile"
				return
			fi
			sleep 0.1
		done
		kill "$pid" 2>/dev/null || true
		log "versitygw did not start on port $port: $(tail -c 500 "$logfile")"
	done
	exit 1
}

stop() {
	if running; then
		local pid
		pid="$(cat "$pidfile")"
		kill "$pid"
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		log "stopped pid $pid"
	else
		log "not running"
	fi
	rm -rf "$state"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
env)
	if running; then cat "$envfile"; else log "not running; use start"; exit 1; fi
	;;
*)
	echo "usage: $0 start|stop|env" >&2
	exit 2
	;;
esac
