# The Debian packages Switchboard needs, sourced by install.sh and .ci/run.
# What the README's commands use beside `switchboard` itself: dig (bind9-dnsutils), to ask the cluster DNS.
# kubectl is not a Debian package: install.sh says how to get it when it is missing.
# iptables, iproute2: the proxy writes service rules with iptables-restore inside the node's namespace (ip netns exec).
RUNTIME_PACKAGES=(bind9-dnsutils iptables iproute2)
# What the tests and benchmarks add: the real peers and clients they drive.
#   etcd-server: the etcd the storage, API server and DNS tests start (/usr/bin/etcd), and bench/storage.sh's peer
#   etcd-client: etcdctl, which the SkyDNS tests and bench/storage.sh drive
#   dnsperf, unbound: bench/dns.sh's load generator and peer
#   curl: bench/dns.sh and bench/controllers.sh read metrics and readiness with it
TEST_PACKAGES=(etcd-server etcd-client dnsperf unbound curl)
