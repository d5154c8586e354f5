#!/usr/bin/env bash
# Builds a Rust toolchain image from Debian's packages, for machines that cannot reach a
# container registry (so `docker pull rust:1-bullseye` fails) but can reach a Debian mirror.
#
#   bash docker/build-local-toolchain.sh [bullseye|bookworm] [--tag IMAGE]
#
# bullseye (default): Rust 1.78 from bullseye-updates, glibc 2.31 like the official
#   rust:1-bullseye image; tagged rust:1-bullseye so the builder uses it in its place.
# bookworm: Rust from bookworm-security, glibc 2.36 (too new for provided.al2023's 2.34);
#   tagged sweep-local/rust:bookworm. The tests use it to prove the glibc check refuses it.
#
# Idempotent: when the tag already exists it says so and does nothing.
# Needs: a Docker engine, debootstrap, and root (or sudo) for debootstrap.
set -euo pipefail

suite=bullseye
tag=""
while [ $# -gt 0 ]; do
  case "$1" in
    bullseye|bookworm) suite="$1" ;;
    --tag) tag="${2:?--tag needs an image name}"; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "build-local-toolchain: unknown argument '$1' (expected bullseye, bookworm or --tag IMAGE)" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$tag" ]; then
  case "$suite" in
    bullseye) tag="rust:1-bullseye" ;;
    bookworm) tag="sweep-local/rust:bookworm" ;;
  esac
fi
docker_bin="${SWEEP_DOCKER:-docker}"
here="$(cd "$(dirname "$0")" && pwd)"
say() { echo "[toolchain] $*"; }

if "$docker_bin" image inspect "$tag" >/dev/null 2>&1; then
  say "$tag already exists ($("$docker_bin" image inspect -f '{{.Id}}' "$tag" | cut -c1-19)); nothing to do"
  exit 0
fi

# The host's apt mirror is the one this machine can reach; read it from apt's own sources.
mirror="" security=""
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  while read -r key value _; do
    [ "$key" = "URIs:" ] || continue
    case "$value" in
      *security*) [ -n "$security" ] || security="$value" ;;
      *debian*) [ -n "$mirror" ] || mirror="$value" ;;
    esac
  done <"$f"
done
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
  mirror="$(awk '$1=="deb" && $2 !~ /security/ && $2 ~ /debian/ {print $2; exit}' /etc/apt/sources.list)"
  security="$(awk '$1=="deb" && $2 ~ /security/ {print $2; exit}' /etc/apt/sources.list)"
fi
mirror="${mirror:-http://deb.debian.org/debian}"
security="${security:-http://deb.debian.org/debian-security}"

case "$suite" in
  # bullseye-security lists a newer rustc-web whose files are not served here: leave it out.
  bullseye) sources="deb $mirror bullseye main\ndeb $mirror bullseye-updates main" ;;
  bookworm) sources="deb $mirror bookworm main\ndeb $mirror bookworm-updates main\ndeb $security bookworm-security main" ;;
esac

base="sweep-local/debian:$suite"
started=$SECONDS
if ! "$docker_bin" image inspect "$base" >/dev/null 2>&1; then
  command -v debootstrap >/dev/null || { echo "build-local-toolchain: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  rootfs="$(mktemp -d /tmp/sweep-rootfs.XXXXXX)"
  trap '$sudo rm -rf "$rootfs"' EXIT
  say "debootstrap $suite from $mirror (about 40 s)"
  $sudo debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 \
    || { tail -n 20 "$rootfs.log" >&2; echo "build-local-toolchain: debootstrap failed (log: $rootfs.log)" >&2; exit 1; }
  $sudo tar -C "$rootfs" -c . | "$docker_bin" import - "$base" >/dev/null
  say "imported $base"
fi

say "installing rustc-web and cargo-web from $suite into $tag"
"$docker_bin" build --build-arg "DEBIAN_BASE=$base" --build-arg "APT_SOURCES=$sources" \
  --label "org.opencontainers.image.description=Rust toolchain from Debian $suite packages, built locally by aws-serverless-sweep" \
  -t "$tag" -f "$here/toolchain.Dockerfile" "$here" | sed -u 's/^/[toolchain] /'
say "$tag ready in $((SECONDS - started)) s: $("$docker_bin" run --rm "$tag" rustc --version)"
