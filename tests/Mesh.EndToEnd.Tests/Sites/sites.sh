#!/usr/bin/env bash
# The sites topology for the network-namespace suite (docs/testing.md): a public segment with two
# core gateways, and two sites each behind a NAT router that masquerades outbound connections and
# drops every inbound one. Namespaces are named PREFIX-<host>; nothing is added to the root namespace.
#
#   PREFIX-core1  10.99.0.11 ─┐
#   PREFIX-core2  10.99.0.12 ─┤ bridge in PREFIX-pub (10.99.0.0/24, "the internet")
#   PREFIX-nat-a  10.99.0.21 ─┤   └ lan 10.99.1.1/24 ── PREFIX-site-a 10.99.1.10
#   PREFIX-nat-b  10.99.0.22 ─┘   └ lan 10.99.2.1/24 ── PREFIX-site-b 10.99.2.10
#
# Usage: sites.sh up PREFIX | down PREFIX
#        sites.sh cut PREFIX a|b      the site's uplink cable is pulled (packets vanish, NAT state kept)
#        sites.sh restore PREFIX a|b  the cable is back
#        sites.sh forget PREFIX a|b   the NAT router's wan goes down and up: it forgets every mapping
#        sites.sh block PREFIX a|b IP the site can no longer reach IP (a firewall upstream); unblock undoes it
set -euo pipefail
cmd=$1 p=$2

# ns, public_bridge, on_bridge, router_firewall (a router here has one site on its lan: a cable, not a bridge)
source "$(dirname "${BASH_SOURCE[0]}")/../netns-hosts.sh"

nat_site() {
  local s=$1 n=$2   # site letter, third octet of its lan
  on_bridge "nat-$s" "10.99.0.2$n"
  ns "nat-$s" ip link set eth0 name wan
  ip netns add "$p-site-$s"
  ns "site-$s" ip link set lo up
  ip link add lan netns "$p-nat-$s" type veth peer name eth0 netns "$p-site-$s"
  ns "nat-$s" ip addr add "10.99.$n.1/24" dev lan
  ns "nat-$s" ip link set lan up
  ns "nat-$s" ip link set wan up
  ns "site-$s" ip addr add "10.99.$n.10/24" dev eth0
  ns "site-$s" ip link set eth0 up
  ns "site-$s" ip route add default via "10.99.$n.1"
  router_firewall "nat-$s"
  ns "nat-$s" iptables -t nat -A POSTROUTING -o wan -j MASQUERADE
}

case $cmd in
  up)
    public_bridge
    on_bridge core1 10.99.0.11
    on_bridge core2 10.99.0.12
    nat_site a 1
    nat_site b 2
    ;;
  down)
    for h in site-a site-b nat-a nat-b core1 core2 pub; do ip netns del "$p-$h" 2>/dev/null || true; done
    ;;
  cut)     ns pub ip link set "nat-$3" down ;;
  restore) ns pub ip link set "nat-$3" up ;;
  forget)  ns "nat-$3" ip link set wan down; ns "nat-$3" ip link set wan up ;;
  block)   ns "nat-$3" iptables -I FORWARD -i lan -d "$4" -j DROP ;;
  unblock) ns "nat-$3" iptables -D FORWARD -i lan -d "$4" -j DROP ;;
  *) echo "usage: $0 up|down|cut|restore|forget|block|unblock PREFIX [a|b [IP]]" >&2; exit 2 ;;
esac
