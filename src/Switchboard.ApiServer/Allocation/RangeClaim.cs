namespace Switchboard.ApiServer.Allocation;

/// <summary>What a stored Service holds of a range: the value as it states it and its slot (null: outside the range).</summary>
internal readonly record struct RangeClaim(string Value, int? Slot);
