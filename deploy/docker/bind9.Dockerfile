# SPDX-License-Identifier: Apache-2.0
# BIND9 secondary image for the spoke chart: Debian 12's named, run in the foreground as a
# non-root user, configuration mounted read-only, zones on the /var/cache/bind volume.
#
# Unprivileged, named binds 53 and 953 only where net.ipv4.ip_unprivileged_port_start
# allows it: the chart sets that namespaced sysctl on the Pod (no capability needed).
#   docker build -f deploy/docker/bind9.Dockerfile -t fedns-bind9:9.18 deploy/docker

FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends bind9 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10053 named \
 && useradd --system --uid 10053 --gid 10053 --home-dir /var/cache/bind \
      --no-create-home --shell /usr/sbin/nologin named \
 && install -d -o 10053 -g 10053 -m 0750 /var/cache/bind
USER 10053:10053
WORKDIR /var/cache/bind
VOLUME ["/var/cache/bind"]
EXPOSE 53/udp 53/tcp 953
# -g: foreground, logs to stderr; no -u (already unprivileged)
ENTRYPOINT ["/usr/sbin/named", "-g", "-c", "/etc/fedns-bind/conf/named.conf"]
