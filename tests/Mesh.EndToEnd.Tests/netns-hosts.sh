# Functions shared by the network-namespace topologies (Sites/sites.sh, Seed/seed.sh, Lan/lan.sh): sourced, not run.
# Each topology sets $p (its prefix) first; namespaces are named $p-<host>, and nothing is added to the
# root namespace.

ns() { ip netns exec "$p-$1" "${@:2}"; }

# public_bridge: the namespace $p-pub with a bridge br0, "the internet" the other hosts plug into
public_bridge() {
  ip netns add "$p-pub"
  ns pub ip link set lo up
  ns pub ip link add br0 type bridge
  ns pub ip link set br0 up
}

# on_bridge NAME ADDR: a namespace with one interface eth0 on the bridge
on_bridge() {
  local name=$1 addr=$2
  ip netns add "$p-$name"
  ns "$name" ip link set lo up
  ip link add eth0 netns "$p-$name" type veth peer name "$name" netns "$p-pub"
  ns "$name" ip addr add "$addr/24" dev eth0
  ns "$name" ip link set eth0 up
  ns pub ip link set "$name" master br0 up
}

# router NAME WAN_ADDR LAN_NET: a router namespace with its wan on the bridge and a lan bridge (lan) at LAN_NET.1
router() {
  local name=$1 wan=$2 net=$3
  on_bridge "$name" "$wan"
  ns "$name" ip link set eth0 name wan
  ns "$name" ip link set wan up
  ns "$name" ip link add lan type bridge
  ns "$name" ip addr add "$net.1/24" dev lan
  ns "$name" ip link set lan up
  router_firewall "$name"
}

# router_firewall NAME: NAME (interfaces wan and lan) forwards lan -> wan, and wan -> lan only for connections
# made from the lan; it answers its lan only. It does not translate: each topology adds its NAT rules.
router_firewall() {
  local name=$1
  ns "$name" sysctl -qw net.ipv4.ip_forward=1
  # a mid-connection packet the router has no state for is invalid, not a new connection
  ns "$name" sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0
  ns "$name" iptables -P FORWARD DROP
  # hosts of one LAN talk through the lan bridge, whose frames pass FORWARD too where br_netfilter is loaded
  ns "$name" iptables -A FORWARD -i lan -o lan -j ACCEPT
  ns "$name" iptables -A FORWARD -m conntrack --ctstate INVALID -j DROP
  ns "$name" iptables -A FORWARD -i lan -o wan -j ACCEPT
  ns "$name" iptables -A FORWARD -i wan -o lan -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  ns "$name" iptables -P INPUT DROP
  ns "$name" iptables -A INPUT -i lan -j ACCEPT
  ns "$name" iptables -A INPUT -i lo -j ACCEPT
}

# on_lan ROUTER NAME ADDR...: a host on ROUTER's lan (eth0), its default route through the router
on_lan() {
  local router=$1 name=$2 gw
  gw=$(ns "$router" ip -4 -o addr show dev lan | awk '{print $4}' | cut -d/ -f1)
  ip netns add "$p-$name"
  ns "$name" ip link set lo up
  ip link add eth0 netns "$p-$name" type veth peer name "$name" netns "$p-$router"
  for a in "${@:3}"; do ns "$name" ip addr add "$a/24" dev eth0; done
  ns "$name" ip link set eth0 up
  ns "$name" ip route add default via "$gw"
  ns "$router" ip link set "$name" master lan up
}

# uplink_bytes HOST DEV: bytes received and sent so far on HOST's DEV, as "RX TX"
uplink_bytes() {
  echo "$(ns "$1" cat "/sys/class/net/$2/statistics/rx_bytes") $(ns "$1" cat "/sys/class/net/$2/statistics/tx_bytes")"
}
