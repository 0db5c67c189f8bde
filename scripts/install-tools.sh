#!/usr/bin/env bash
# install-tools.sh installs the Go-built tools parity's tests need into the
# git-ignored ./.tools/bin, so a checkout needs nothing on PATH but Go.
#
# Tools (pinned; bump deliberately):
#   versitygw  S3-compatible server used by the storage integration tests.
#              It enforces SigV4, so the tests prove signing works.
#
# A tool whose binary is already present is skipped: building versitygw takes
# ~90 s, which CI should pay once per cache, not once per run.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/.tools/bin"
mkdir -p "$bin"

# install_tool NAME MODULE@VERSION
install_tool() {
	local name="$1" mod="$2"
	local stamp="$bin/.$name.version"
	if [[ -x "$bin/$name" && -f "$stamp" && "$(cat "$stamp")" == "$mod" ]]; then
		echo "install-tools: $name already installed ($mod)"
		return
	fi
	echo "install-tools: building $mod (this can take a few minutes)"
	GOBIN="$bin" go install "$mod"
	echo "$mod" >"$stamp"
}

install_tool versitygw github.com/versity/versitygw/cmd/versitygw@v1.8.0

# flagd's evaluation engine (npm @openfeature/flagd-core, pinned) for the
# reports/flagd and jobs tests, which run it in node as a subprocess.
if command -v npm >/dev/null 2>&1; then
	flagd_core="@openfeature/flagd-core@4.0.1"
	stamp="$root/.tools/node/.flagd-core.version"
	if [[ -f "$root/.tools/node/node_modules/@openfeature/flagd-core/package.json" && -f "$stamp" && "$(cat "$stamp")" == "$flagd_core" ]]; then
		echo "install-tools: flagd-core already installed ($flagd_core)"
	else
		echo "install-tools: npm install $flagd_core"
		mkdir -p "$root/.tools/node"
		npm install --prefix "$root/.tools/node" --no-audit --no-fund --silent "$flagd_core"
		echo "$flagd_core" >"$stamp"
	fi
else
	echo "install-tools: npm not found: flagd engine tests skip (apt-get install nodejs npm)"
fi
