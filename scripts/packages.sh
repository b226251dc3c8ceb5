# The Debian packages Switchboard needs, sourced by install.sh and .ci/run.
# What a running cluster needs: the data path tools.
RUNTIME_PACKAGES=(iproute2 iptables nftables conntrack)
# What the tests and benchmarks add: the real peers and clients they drive.
TEST_PACKAGES=(etcd-server etcd-client bind9-dnsutils dnsperf unbound haproxy nginx curl procps)
