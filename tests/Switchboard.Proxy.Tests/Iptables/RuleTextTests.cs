using Switchboard.Proxy.Iptables;

namespace Switchboard.Proxy.Tests.Iptables;

/// <summary>Our spelling of a rule and iptables-save's compare equal; different rules do not.</summary>
public sealed class RuleTextTests
{
    [Theory]
    [InlineData(
        "-m comment --comment \"ns/svc:p cluster IP\" -m tcp -p tcp -d 10.96.0.10 --dport 80 -j KUBE-SVC-X",
        "-d 10.96.0.10/32 -p tcp -m comment --comment \"ns/svc:p cluster IP\" -m tcp --dport 80 -j KUBE-SVC-X")]
    [InlineData(
        "-m comment --comment \"ns/svc:p -> 10.0.0.1:80\" -m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-X",
        "-m comment --comment \"ns/svc:p -> 10.0.0.1:80\" -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-X")]
    [InlineData("-j MARK --or-mark 0x4000", "-j MARK --set-xmark 0x4000/0x4000")]
    [InlineData("-j MARK --xor-mark 0x4000", "-j MARK --set-xmark 0x4000/0x0")]
    [InlineData(
        "-m recent --name KUBE-SEP-X --rcheck --seconds 600 --reap -j KUBE-SEP-X",
        "-m recent --rcheck --seconds 600 --reap --name KUBE-SEP-X --mask 255.255.255.255 --rsource -j KUBE-SEP-X")]
    [InlineData("-m comment --comment \"x has no endpoints\" -j REJECT", "-m comment --comment \"x has no endpoints\" -j REJECT --reject-with icmp-port-unreachable")]
    public void Our_spelling_and_iptables_save_spelling_are_one_rule(string ours, string saved) =>
        Assert.Equal(RuleText.Canonical(ours), RuleText.Canonical(saved));

    [Theory]
    [InlineData("-s 10.0.0.1 -d 10.0.0.2 -j ACCEPT", "-s 10.0.0.2 -d 10.0.0.1 -j ACCEPT")]
    [InlineData("! -s 10.244.0.0/16 -j KUBE-MARK-MASQ", "-s 10.244.0.0/16 -j KUBE-MARK-MASQ")]
    [InlineData("-m statistic --mode random --probability 0.5000000000 -j A", "-m statistic --mode random --probability 0.3333333333 -j A")]
    public void Different_rules_stay_different(string a, string b) =>
        Assert.NotEqual(RuleText.Canonical(a), RuleText.Canonical(b));
}
