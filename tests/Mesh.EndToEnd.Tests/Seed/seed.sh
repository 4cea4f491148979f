#!/usr/bin/env bash
# The seed topology (samples/seed/mesh.toml) for the network-namespace seed suite (docs/testing.md):
# site-a, a core gateway behind a 1:1 NAT that gives it two public addresses; core2, a second core
# gateway on the public segment; site-b and site-c, edges behind masquerading NAT routers, each kept by a
# firewall upstream from one of the core gateways, so that site-c -> site-b must cross core2 and site-a.
# Namespaces are named PREFIX-<host>; nothing is added to the root namespace. 10.98.0.0/24 keeps clear
# of the sites suite (10.99.x).
#
#   PREFIX-pub: a bridge, 10.98.0.0/24 ("the internet")
#   ├── PREFIX-core2  10.98.0.12   core2 (core)
#   ├── PREFIX-user   10.98.0.50   an app on the internet (uses site-a's public entries)
#   ├── PREFIX-nat-a  wan 10.98.0.26, 10.98.0.27 (1:1 NAT) | lan 10.98.10.1/24
#   │     └── PREFIX-site-a  10.98.10.26 (= 10.98.0.26), 10.98.10.27 (= 10.98.0.27)   site-a (core, director)
#   ├── PREFIX-nat-b  wan 10.98.0.22 | lan 10.98.2.1/24   masquerades; the firewall drops what goes to core2
#   │     ├── PREFIX-site-b  10.98.2.10   site-b (edge), redis2
#   │     └── PREFIX-db-b    10.98.2.11   mysql1's host
#   └── PREFIX-nat-c  wan 10.98.0.23 | lan 10.98.3.1/24   masquerades; the firewall drops what goes to site-a
#         └── PREFIX-site-c  10.98.3.10   site-c (edge)
#
# Usage: seed.sh up PREFIX | down PREFIX
#        seed.sh bytes PREFIX HOST   bytes received and sent on HOST's uplink (eth0, or wan for a router): "RX TX"
#        seed.sh block PREFIX ROUTER IP   ROUTER's site can no longer reach IP (a firewall upstream); unblock undoes it
set -euo pipefail
cmd=$1 p=$2

# ns, public_bridge, on_bridge, router, on_lan, uplink_bytes
source "$(dirname "${BASH_SOURCE[0]}")/../netns-hosts.sh"

case $cmd in
  up)
    public_bridge
    on_bridge core2 10.98.0.12
    on_bridge user 10.98.0.50

    # site-a: 1:1 NAT. Each public address is one private address of site-a's host, both ways, every port:
    # what comes to 10.98.0.26 goes to 10.98.10.26, what 10.98.10.26 sends out comes from 10.98.0.26.
    router nat-a 10.98.0.26 10.98.10
    ns nat-a ip addr add 10.98.0.27/24 dev wan
    on_lan nat-a site-a 10.98.10.26 10.98.10.27
    for n in 26 27; do
      ns nat-a iptables -t nat -A PREROUTING -i wan -d "10.98.0.$n" -j DNAT --to-destination "10.98.10.$n"
      ns nat-a iptables -t nat -A POSTROUTING -o wan -s "10.98.10.$n" -j SNAT --to-source "10.98.0.$n"
      ns nat-a iptables -A FORWARD -i wan -o lan -d "10.98.10.$n" -m conntrack --ctstate DNAT -j ACCEPT
    done

    # site-b and site-c: outbound only (masquerade), like a home router or a carrier NAT
    router nat-b 10.98.0.22 10.98.2
    router nat-c 10.98.0.23 10.98.3
    for r in nat-b nat-c; do ns "$r" iptables -t nat -A POSTROUTING -o wan -j MASQUERADE; done
    on_lan nat-b site-b 10.98.2.10
    on_lan nat-b db-b 10.98.2.11
    on_lan nat-c site-c 10.98.3.10
    # firewalls upstream: site-b reaches site-a only (not core2), site-c reaches core2 only (not site-a)
    ns nat-b iptables -I FORWARD -i lan -d 10.98.0.12 -j DROP
    ns nat-c iptables -I FORWARD -i lan -d 10.98.0.26 -j DROP
    ns nat-c iptables -I FORWARD -i lan -d 10.98.0.27 -j DROP
    ;;
  down)
    for h in site-a site-b db-b site-c nat-a nat-b nat-c core2 user pub; do ip netns del "$p-$h" 2>/dev/null || true; done
    ;;
  bytes)
    dev=eth0; case $3 in nat-*) dev=wan ;; esac
    uplink_bytes "$3" "$dev"
    ;;
  block)   ns "$3" iptables -I FORWARD -i lan -d "$4" -j DROP ;;
  unblock) ns "$3" iptables -D FORWARD -i lan -d "$4" -j DROP ;;
  *) echo "usage: $0 up|down PREFIX | bytes PREFIX HOST | block|unblock PREFIX ROUTER IP" >&2; exit 2 ;;
esac
