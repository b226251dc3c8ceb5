using Etcdserverpb;
using Google.Protobuf;

namespace Switchboard.Storage.Etcd;

/// <summary>Turns a <see cref="Transaction"/> into etcd's TxnRequest, and its TxnResponse back into a <see cref="TxnResult"/>.</summary>
internal static class EtcdTransactions
{
    /// <summary>Every put of the transaction, in both branches and nested ones.</summary>
    public static IEnumerable<TxnPut> Puts(Transaction transaction) =>
        transaction.Success.Concat(transaction.Failure).SelectMany(step => step switch
        {
            TxnPut put => [put],
            Transaction nested => Puts(nested),
            _ => [],
        });

    public static TxnRequest ToRequest(Transaction transaction, IReadOnlyDictionary<TxnPut, long> leases)
    {
        var request = new TxnRequest();
        request.Compare.AddRange(transaction.Compares.Select(ToCompare));
        request.Success.AddRange(transaction.Success.Select(step => ToRequestOp(step, leases)));
        request.Failure.AddRange(transaction.Failure.Select(step => ToRequestOp(step, leases)));
        return request;
    }

    /// <summary>The result of the branch etcd ran; the leases of the puts it ran are added to <paramref name="kept"/>.</summary>
    public static TxnResult ToResult(Transaction transaction, bool succeeded, IReadOnlyList<ResponseOp> responses, long revision, IReadOnlyDictionary<TxnPut, long> leases, HashSet<long> kept)
    {
        var steps = succeeded ? transaction.Success : transaction.Failure;
        var results = new List<TxnOperationResult>(steps.Count);
        for (int i = 0; i < steps.Count; i++)
        {
            var response = responses[i];
            results.Add(steps[i] switch
            {
                TxnPut put => PutResult(put, response.ResponsePut.PrevKv, revision, leases, kept),
                TxnDelete => new TxnDeleteResult([.. response.ResponseDeleteRange.PrevKvs.Select(EtcdKeyValueStore.ToKeyValue)]),
                TxnRange => new TxnRangeResult([.. response.ResponseRange.Kvs.Select(EtcdKeyValueStore.ToKeyValue)], response.ResponseRange.More, response.ResponseRange.Count),
                Transaction nested => ToResult(nested, response.ResponseTxn.Succeeded, response.ResponseTxn.Responses, revision, leases, kept),
                _ => throw new ArgumentException($"unknown transaction step {steps[i].GetType().Name}", nameof(transaction)),
            });
        }

        return new TxnResult(succeeded, revision, results);
    }

    private static TxnPutResult PutResult(TxnPut put, Mvccpb.KeyValue? prevKv, long revision, IReadOnlyDictionary<TxnPut, long> leases, HashSet<long> kept)
    {
        if (leases.TryGetValue(put, out long lease))
        {
            kept.Add(lease);
        }

        lease = put.Lease != 0 ? put.Lease : lease;
        var previous = prevKv is null ? null : EtcdKeyValueStore.ToKeyValue(prevKv);
        var current = previous is null
            ? new KeyValue(put.Key, put.Value, revision, revision, 1, lease)
            : new KeyValue(put.Key, put.Value, previous.CreateRevision, revision, previous.Version + 1, lease);
        return new TxnPutResult(current, previous);
    }

    private static Compare ToCompare(TxnCompare compare)
    {
        var result = new Compare
        {
            Key = EtcdKeys.Key(compare.Key),
            Result = compare.Operator switch
            {
                CompareOperator.Equal => Compare.Types.CompareResult.Equal,
                CompareOperator.NotEqual => Compare.Types.CompareResult.NotEqual,
                CompareOperator.Greater => Compare.Types.CompareResult.Greater,
                _ => Compare.Types.CompareResult.Less,
            },
        };
        switch (compare.Target)
        {
            case CompareTarget.Version:
                result.Target = Compare.Types.CompareTarget.Version;
                result.Version = compare.Number;
                break;
            case CompareTarget.CreateRevision:
                result.Target = Compare.Types.CompareTarget.Create;
                result.CreateRevision = compare.Number;
                break;
            case CompareTarget.ModRevision:
                result.Target = Compare.Types.CompareTarget.Mod;
                result.ModRevision = compare.Number;
                break;
            case CompareTarget.Lease:
                result.Target = Compare.Types.CompareTarget.Lease;
                result.Lease = compare.Number;
                break;
            default:
                result.Target = Compare.Types.CompareTarget.Value;
                result.Value = ByteString.CopyFrom(compare.Value ?? []);
                break;
        }

        return result;
    }

    private static RequestOp ToRequestOp(TxnOperation step, IReadOnlyDictionary<TxnPut, long> leases) => step switch
    {
        TxnPut put => new RequestOp
        {
            RequestPut = new PutRequest { Key = EtcdKeys.Key(put.Key), Value = ByteString.CopyFrom(put.Value), Lease = put.Lease != 0 ? put.Lease : leases.GetValueOrDefault(put), PrevKv = true },
        },
        TxnDelete delete => new RequestOp
        {
            RequestDeleteRange = new DeleteRangeRequest { Key = EtcdKeys.Key(delete.Key), RangeEnd = RangeEnd(delete.RangeEnd), PrevKv = true },
        },
        TxnRange range => new RequestOp
        {
            RequestRange = new RangeRequest { Key = EtcdKeys.Key(range.Key), RangeEnd = RangeEnd(range.RangeEnd), Limit = range.Limit },
        },
        Transaction nested => new RequestOp { RequestTxn = ToRequest(nested, leases) },
        _ => throw new ArgumentException($"unknown transaction step {step.GetType().Name}", nameof(step)),
    };

    private static ByteString RangeEnd(string? end) => end is null ? ByteString.Empty : EtcdKeys.Key(end);
}
