# SPDX-License-Identifier: Apache-2.0
# fedns-hub and fednsctl image: built with the project's CMake on Debian 12, run as a non-root
# user from a read-only root filesystem (the store lives on the /var/lib/fedns volume).
#
# Build from the repository root:
#   docker build -f deploy/docker/hub.Dockerfile -t fedns-hub:0.1.0 .

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
 && cmake --build /build -j"$(nproc)" --target fedns-hub fednsctl \
 && install -D -m 0755 /build/hub/fedns-hub /out/usr/bin/fedns-hub \
 && install -D -m 0755 /build/cli/fednsctl /out/usr/bin/fednsctl

FROM debian:12-slim
# Only the shared libraries the two programs load (see ldd), plus CA certificates for
# fednsctl talking to a hub whose certificate chains to a public CA.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libnng1 libmbedtls14 libmbedcrypto7 libmbedx509-1 libssl3 libprotobuf-c1 \
      libcjson1 libsqlite3-0 libcurl4 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 fedns \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/fedns \
      --no-create-home --shell /usr/sbin/nologin fedns \
 && install -d -o 10001 -g 10001 -m 0700 /var/lib/fedns
COPY --from=build /out/ /
USER 10001:10001
WORKDIR /var/lib/fedns
VOLUME ["/var/lib/fedns"]
# 8443: REST API, dashboard, /healthz /readyz /metrics (HTTPS); 8444: spoke listener (mTLS)
EXPOSE 8443 8444
ENTRYPOINT ["/usr/bin/fedns-hub"]
CMD ["--help"]
