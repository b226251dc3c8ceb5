namespace Switchboard.Kube.Selectors;

/// <summary>The operators of apimachinery's selection package that label selectors use.</summary>
internal enum LabelOperator
{
    Equals,
    NotEquals,
    In,
    NotIn,
    Exists,
    DoesNotExist,
    GreaterThan,
    LessThan,
}
