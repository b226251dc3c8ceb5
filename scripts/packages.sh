# The Debian packages Switchboard needs, sourced by install.sh and .ci/run.
# What the README's commands use beside `switchboard` itself: dig (bind9-dnsutils), to ask the cluster DNS.
# kubectl is not a Debian package: install.sh says how to get it when it is missing.
# The node: ip (iproute2) for namespaces, veths and the bridge; nsenter, unshare, setsid, setpriv (util-linux) for
# pod sandboxes; the programs its images run: nginx, curl, busybox (wget, nc… for the busybox image).
# The proxy: iptables-restore inside the node's namespace (ip netns exec); conntrack, to delete UDP flows to removed endpoints.
RUNTIME_PACKAGES=(bind9-dnsutils iproute2 util-linux nginx curl busybox iptables conntrack)
# What building the installed executable adds: scripts/publish.sh compiles the echo image's program ahead of time, and
# native AOT links with clang (gcc when clang is missing). CI installs it too: a test publishes that program.
BUILD_PACKAGES=(clang)
# What the tests and benchmarks add: the real peers and clients they drive.
#   etcd-server: the etcd the storage, API server and DNS tests start (/usr/bin/etcd), and bench/storage.sh's peer
#   etcd-client: etcdctl, which the SkyDNS tests and bench/storage.sh drive
#   dnsperf, unbound: bench/dns.sh's load generator and peer
#   curl: bench/dns.sh and bench/controllers.sh read metrics and readiness with it
#   wrk, haproxy: bench/proxy-userspace.sh's load generator and peer (HAProxy in mode tcp)
#   nftables: nft, with which the proxy's nftables tests and the walkthrough read back the table the proxy wrote over netlink
#   python3: the small UDP/TCP servers and clients of the proxy tests and benches
#   chromium: the browser the web view's tests and bench/ui.sh drive (through Playwright, which downloads none)
TEST_PACKAGES=(etcd-server etcd-client dnsperf unbound curl wrk haproxy strace nftables python3)
TEST_PACKAGES+=(chromium)
