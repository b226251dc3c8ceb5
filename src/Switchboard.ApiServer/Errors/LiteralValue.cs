namespace Switchboard.ApiServer.Errors;

/// <summary>A field value printed as is (e.g. Go's <c>[]string{"10.0.0.1"}</c>) rather than quoted.</summary>
internal sealed record LiteralValue(string Text)
{
    public override string ToString() => Text;
}
