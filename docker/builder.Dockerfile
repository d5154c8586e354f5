# The builder image: the Rust toolchain image plus the native packages that crates with C
# dependencies expect (clang, cmake, perl, pkg-config), installed once here so that no build
# ever runs apt again. The engine tags it `sweep-builder:<toolchain>-<hash of this file and its
# build args>`, so editing this file builds a new image and an unchanged one is reused as is.
ARG BASE_IMAGE=rust:1-bullseye
FROM ${BASE_IMAGE}

# Debian architecture of the Lambda target (amd64 for x86_64, arm64 for arm64). When it differs
# from the image's own, the cross linker and the target's Rust standard library are installed too.
ARG TARGET_DEB_ARCH=amd64
# Rust target triple matching TARGET_DEB_ARCH, for images whose toolchain comes from rustup.
ARG TARGET_TRIPLE=x86_64-unknown-linux-gnu

RUN set -eux; \
    export DEBIAN_FRONTEND=noninteractive; \
    host_arch="$(dpkg --print-architecture)"; \
    cross=""; \
    if [ "$host_arch" != "$TARGET_DEB_ARCH" ]; then \
      gnu_arch="$(echo "$TARGET_TRIPLE" | cut -d- -f1)"; \
      dpkg --add-architecture "$TARGET_DEB_ARCH"; \
      cross="gcc-${gnu_arch}-linux-gnu libc6-dev-${TARGET_DEB_ARCH}-cross"; \
      if ! command -v rustup >/dev/null; then \
        # Debian's own Rust (no rustup): the target's std is the multiarch package of the
        # installed compiler, pinned to its exact version (another version would replace it).
        std_pkg="$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' 'libstd-rust*-dev' | awk '$1 == "ii" {print $2; exit}')"; \
        std_version="$(dpkg-query -W -f='${Version}' "$std_pkg")"; \
        cross="$cross ${std_pkg}:${TARGET_DEB_ARCH}=${std_version}"; \
      fi; \
    fi; \
    apt-get update; \
    apt-get install -y --no-install-recommends clang cmake perl pkg-config $cross; \
    rm -rf /var/lib/apt/lists/*; \
    if [ -n "$cross" ] && command -v rustup >/dev/null; then rustup target add "$TARGET_TRIPLE"; fi

# Cross linkers by target; harmless when the target is native.
ENV CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
