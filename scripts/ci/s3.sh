#!/usr/bin/env bash
# Throwaway S3 server on loopback for the tests: s3rver (npm), objects stored under DIR.
#   scripts/ci/s3.sh start DIR PORT   → prints the endpoint 127.0.0.1:PORT
#   scripts/ci/s3.sh stop DIR
# s3rver is pinned in scripts/ci/node/package-lock.json and installed there with `npm ci`
# (again only when the lock file changes). scripts/ci/node/s3server.js starts it with the
# multipart abort/list operations it lacks. Credentials: access key S3RVER, secret S3RVER
# (s3rver checks signatures). Path-style addressing, plain HTTP, any region.
# Keep PORT below 32768: 32768–60999 is the range the kernel hands to outgoing connections.
set -euo pipefail
cmd="${1:-}"; dir="${2:-}"
node_dir="$(cd "$(dirname "$0")" && pwd)/node"

ensure_node() {
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        if [ "$(id -u)" = 0 ]; then
            DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >&2
        else
            echo "s3.sh: node and npm are needed to run s3rver" >&2; exit 1
        fi
    fi
    local stamp
    stamp="$node_dir/node_modules/.installed-$(sha1sum "$node_dir/package-lock.json" | cut -c1-12)"
    if [ ! -f "$stamp" ]; then
        (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
        touch "$stamp"
    fi
}

wait_until_answering() {
    local port="$1" pid="$2"
    for _ in $(seq 1 100); do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "s3.sh: s3rver exited; its log:" >&2; cat "$dir/server.log" >&2; return 1
        fi
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "s3.sh: s3rver did not answer on 127.0.0.1:$port within 10 s" >&2; return 1
}

case "$cmd" in
start)
    port="${3:?usage: $0 start DIR PORT}"
    ensure_node
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "s3.sh: something already listens on 127.0.0.1:$port" >&2; exit 1
    fi
    mkdir -p "$dir/data"
    nohup node "$node_dir/s3server.js" --directory "$dir/data" --address 127.0.0.1 --port "$port" \
        >"$dir/server.log" 2>&1 </dev/null &
    echo $! >"$dir/pid"
    wait_until_answering "$port" "$(cat "$dir/pid")"
    echo "127.0.0.1:$port"
    ;;
stop)
    [ -f "$dir/pid" ] || exit 0
    pid=$(cat "$dir/pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$dir/pid"
    ;;
*)
    echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
