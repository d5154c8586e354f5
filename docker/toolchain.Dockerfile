# A Rust toolchain image made from Debian's own packages, for machines that cannot reach a
# container registry (see build-local-toolchain.sh). On bullseye it has the glibc (2.31) of the
# official rust:1-bullseye image, so binaries built with it run on Lambda's provided.al2023.
ARG DEBIAN_BASE
FROM ${DEBIAN_BASE}
# Suites to install from, one `deb` line each, prepared by build-local-toolchain.sh from the
# host's own apt mirror.
ARG APT_SOURCES
RUN set -eux; \
    printf '%b\n' "$APT_SOURCES" > /etc/apt/sources.list; \
    export DEBIAN_FRONTEND=noninteractive; \
    apt-get update; \
    apt-get install -y --no-install-recommends rustc-web cargo-web gcc libc6-dev ca-certificates; \
    rm -rf /var/lib/apt/lists/*; \
    rustc --version; cargo --version
ENV CARGO_HOME=/usr/local/cargo
