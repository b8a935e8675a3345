# SPDX-License-Identifier: Apache-2.0
# fedns-spoke image: built with the project's CMake on Debian 12, run as a non-root user from
# a read-only root filesystem (journal on the /var/lib/fedns volume), with rndc for repairs.
#
# Build from the repository root:
#   docker build -f deploy/docker/spoke.Dockerfile -t fedns-spoke:0.1.0 .

FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config libcmocka-dev \
      libnng-dev libmbedtls-dev libssl-dev libprotobuf-c-dev protobuf-c-compiler \
      libcjson-dev libcurl4-openssl-dev libsqlite3-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DFEDNS_WERROR=ON \
 && cmake --build /build -j"$(nproc)" --target fedns-spoke \
 && install -D -m 0755 /build/spoke/fedns-spoke /out/usr/bin/fedns-spoke

FROM debian:12-slim
# The hub session links nng, mbedTLS and protobuf-c; bind9-utils brings rndc, which the
# verifier runs (no shell) to repair a diverged secondary.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libnng1 libmbedtls14 libmbedcrypto7 libmbedx509-1 libssl3 libprotobuf-c1 \
      bind9-utils \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 fedns \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/fedns \
      --no-create-home --shell /usr/sbin/nologin fedns \
 && install -d -o 10001 -g 10001 -m 0700 /var/lib/fedns
COPY --from=build /out/ /
USER 10001:10001
WORKDIR /var/lib/fedns
VOLUME ["/var/lib/fedns"]
# 5300: DNS for the secondaries (UDP+TCP); 9153: /healthz /readyz /metrics (HTTP)
EXPOSE 5300/udp 5300/tcp 9153
ENTRYPOINT ["/usr/bin/fedns-spoke"]
