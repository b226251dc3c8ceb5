namespace Switchboard.ApiServer.Tables;

/// <summary>One server-side table column: its definition and how to compute a cell (kube's printers.go).</summary>
/// <param name="Name">The header (kubectl upper-cases it).</param>
/// <param name="Type">OpenAPI type: string, integer, number, boolean, date.</param>
/// <param name="Priority">0 always shown, 1 only with -o wide.</param>
/// <param name="Cell">The cell of one object, given the current time.</param>
/// <param name="Format">OpenAPI format: "name" for the name column.</param>
/// <param name="Description">The column description kubectl shows nowhere but clients may.</param>
internal sealed record TableColumn<T>(string Name, string Type, int Priority, Func<T, DateTimeOffset, object?> Cell, string Format = "", string Description = "");
