#!/usr/bin/env bash
# The services the test suite needs, installed from Debian's packages when missing.
# It fails loudly when one cannot be had: the suite never skips for want of a service.
set -euo pipefail

need_apt() {
    local command=$1 package=$2
    if command -v "$command" >/dev/null 2>&1; then
        return
    fi
    echo "test-services: $command is missing; installing Debian package $package" >&2
    if [ "$(id -u)" != 0 ]; then
        echo "test-services: FAILED: $package is needed and only root can install it (apt-get install $package)" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || true
    if ! apt-get install -y -qq "$package" >&2; then
        echo "test-services: FAILED: could not install $package" >&2
        exit 1
    fi
    command -v "$command" >/dev/null 2>&1 || { echo "test-services: FAILED: $command still missing" >&2; exit 1; }
}

# Headless Chromium for the browser tests (driven by Playwright with executable_path).
need_apt chromium chromium
chromium --headless --no-sandbox --disable-gpu --version >/dev/null 2>&1 \
    || { echo "test-services: FAILED: chromium is installed but does not start" >&2; exit 1; }
echo "test-services: chromium $(chromium --version 2>/dev/null | awk '{print $2}') ready" >&2

# Redis for the Redis store's tests: the suite starts a private redis-server on a free loopback port.
need_apt redis-server redis-server
echo "test-services: $(redis-server --version | awk '{print $1, $2, $3}') ready" >&2

# nginx, to prove the README's load-balancer example (deploy/nginx/) in front of three nodes.
need_apt nginx nginx
echo "test-services: $(nginx -v 2>&1 | awk '{print $3}') ready" >&2
# logrotate, to prove the shipped rotation of the engine's log (deploy/logrotate/).
need_apt logrotate logrotate

# Dovecot, the IMAP server the email channel reads in the tests (they start a private one on a free port).
need_apt dovecot dovecot-imapd
echo "test-services: $(dovecot --version | awk '{print "dovecot", $1}') ready" >&2

# coturn, the TURN server a call's sound is relayed through behind a firewall: the call tests start a
# private one on a free loopback port, sharing a secret with the engine (TURN REST credentials).
need_apt turnserver coturn
need_apt turnutils_uclient coturn
echo "test-services: $(turnserver --version 2>/dev/null | head -1 | awk '{print "coturn", $1}') ready" >&2

# The SIP gateway the desk dials callbacks through, and the customer's phone: Kamailio (with its websocket and
# auth_ephemeral modules), rtpengine (in userspace) and baresip; the dialling tests start each on free loopback ports.
need_module() {
    local file=$1 package=$2
    if [ -f "$file" ]; then
        return
    fi
    echo "test-services: $file is missing; installing Debian package $package" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq "$package" >&2 || { echo "test-services: FAILED: could not install $package" >&2; exit 1; }
    [ -f "$file" ] || { echo "test-services: FAILED: $file still missing" >&2; exit 1; }
}
need_apt kamailio kamailio
KAMAILIO_MODULES=$(dirname "$(dpkg -L kamailio | grep '/kamailio/modules/tm.so$' | head -1)")
need_module "$KAMAILIO_MODULES/websocket.so" kamailio-websocket-modules
need_module "$KAMAILIO_MODULES/auth_ephemeral.so" kamailio-autheph-modules
need_apt rtpengine rtpengine-daemon
need_apt baresip baresip-core
for service in kamailio rtpengine-daemon coturn; do  # the packages' own daemons are not the tests'
    systemctl disable --now "$service" >/dev/null 2>&1 || true
done
echo "test-services: kamailio $(kamailio -v 2>/dev/null | head -1 | awk '{print $3}'), rtpengine, baresip ready" >&2
