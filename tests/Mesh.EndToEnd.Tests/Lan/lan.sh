#!/usr/bin/env bash
# The LAN topology for the network-namespace Lan suite (docs/testing.md): two edge gateways on one LAN,
# behind one NAT router, and one core gateway on the public segment. The edges reach each other on the
# LAN (a direct link) and the core through the router (the relay). 10.97.x keeps clear of the sites
# suite (10.99.x) and the seed suite (10.98.x).
#
#   PREFIX-pub: a bridge, 10.97.0.0/24 ("the internet")
#   ├── PREFIX-core1  10.97.0.11   core1 (core, director, API)
#   └── PREFIX-nat    wan 10.97.0.21 | lan 10.97.1.1/24   masquerades outbound, drops every inbound
#         ├── PREFIX-lan-1  10.97.1.10   lan-1 (edge that accepts links)
#         └── PREFIX-lan-2  10.97.1.11   lan-2 (edge that accepts links)
#
# Usage: lan.sh up PREFIX | down PREFIX
#        lan.sh bytes PREFIX HOST   bytes received and sent on HOST's uplink (eth0, or wan for nat): "RX TX"
#        lan.sh block PREFIX        lan-1 and lan-2 no longer reach each other on the LAN (packets vanish,
#                                   as at a broken switch port); both still reach core1 through the router
#        lan.sh unblock PREFIX      undoes block
set -euo pipefail
cmd=$1 p=$2

# ns, public_bridge, on_bridge, router, on_lan, uplink_bytes
source "$(dirname "${BASH_SOURCE[0]}")/../netns-hosts.sh"

# the block: a firewall in lan-1's own namespace drops everything to and from lan-2, both ways
cut_lan() {
  ns lan-1 iptables "$1" INPUT -s 10.97.1.11 -j DROP
  ns lan-1 iptables "$1" OUTPUT -d 10.97.1.11 -j DROP
}

case $cmd in
  up)
    public_bridge
    on_bridge core1 10.97.0.11
    router nat 10.97.0.21 10.97.1
    ns nat iptables -t nat -A POSTROUTING -o wan -j MASQUERADE
    on_lan nat lan-1 10.97.1.10
    on_lan nat lan-2 10.97.1.11
    ;;
  down)
    for h in lan-1 lan-2 nat core1 pub; do ip netns del "$p-$h" 2>/dev/null || true; done
    ;;
  bytes)
    dev=eth0; [ "$3" = nat ] && dev=wan
    uplink_bytes "$3" "$dev"
    ;;
  block)   cut_lan -I ;;
  unblock) cut_lan -D ;;
  *) echo "usage: $0 up|down PREFIX | bytes PREFIX HOST | block|unblock PREFIX" >&2; exit 2 ;;
esac
