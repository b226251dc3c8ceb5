using System.Globalization;

namespace Switchboard.ApiServer.Errors;

/// <summary>What is wrong with a field (apimachinery's field.ErrorType).</summary>
internal enum FieldErrorType
{
    Required,
    Invalid,
    Duplicate,
    NotSupported,
    Forbidden,
    TooLong,
    NotFound,
}

/// <summary>One validation failure, rendered the way apimachinery's field.Error prints it.</summary>
internal sealed record FieldError(FieldErrorType Type, string Field, object? Value = null, string? Detail = null)
{
    public static FieldError Required(string field, string? detail = null) => new(FieldErrorType.Required, field, null, detail);

    public static FieldError Invalid(string field, object? value, string detail) => new(FieldErrorType.Invalid, field, value, detail);

    public static FieldError Duplicate(string field, object? value) => new(FieldErrorType.Duplicate, field, value);

    public static FieldError NotSupported(string field, object? value, params string[] supported) =>
        new(FieldErrorType.NotSupported, field, value, "supported values: " + string.Join(", ", supported.Select(s => Quote(s))));

    public static FieldError NotFound(string field, object? value) => new(FieldErrorType.NotFound, field, value);

    public static FieldError Forbidden(string field, string detail) => new(FieldErrorType.Forbidden, field, null, detail);

    /// <summary>A value over its size limit; apimachinery leaves the value out of the message.</summary>
    public static FieldError TooLong(string field, int maxBytes) => new(FieldErrorType.TooLong, field, null, $"must have at most {maxBytes} bytes");

    /// <summary>The cause reason of a Status detail (FieldValueInvalid, …).</summary>
    public string Reason => "FieldValue" + Type switch
    {
        FieldErrorType.NotSupported => "NotSupported",
        _ => Type.ToString(),
    };

    /// <summary>The message without the field path, as in Status causes.</summary>
    public string Body
    {
        get
        {
            string body = Type switch
            {
                FieldErrorType.Required => "Required value",
                FieldErrorType.Invalid => "Invalid value: " + Quote(Value),
                FieldErrorType.Duplicate => "Duplicate value: " + Quote(Value),
                FieldErrorType.NotSupported => "Unsupported value: " + Quote(Value),
                FieldErrorType.Forbidden => "Forbidden",
                FieldErrorType.TooLong => "Too long",
                FieldErrorType.NotFound => "Not found: " + Quote(Value),
                _ => Type.ToString(),
            };
            return string.IsNullOrEmpty(Detail) ? body : body + ": " + Detail;
        }
    }

    public override string ToString() => Field + ": " + Body;

    private static string Quote(object? value) => value switch
    {
        null => "null",
        string s => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"",
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "null",
    };
}
