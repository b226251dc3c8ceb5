using Grpc.Core;
using Switchboard.EtcdFront.Protocol;
using Switchboard.Storage;
using KeyValue = Switchboard.Storage.KeyValue;

namespace Switchboard.EtcdFront.Grpc;

/// <summary>
/// etcd's KV service over the store: Range at a revision (limit, sort, filters, keys-only, count-only), Put and
/// DeleteRange as one-operation transactions, Txn with nested operations, and Compact. Every write goes through the
/// store's writer, so its revisions are the store's own.
/// </summary>
internal sealed class KvService(IKeyValueStore store, FrontIdentity identity) : KV.KVBase
{
    /// <summary>etcd's --max-txn-ops.</summary>
    private const int MaxTxnOps = 128;

    public override async Task<RangeResponse> Range(RangeRequest request, ServerCallContext context)
    {
        var interval = FrontKeys.Interval(request.Key, request.RangeEnd);
        var response = new RangeResponse();
        long revision;
        if (NeedsWholeRange(request))
        {
            var result = await store.RangeAsync(interval.Start, interval.Options(0, request.Revision), context.CancellationToken);
            Fill(response, request, result.Items, result.More, result.Count, whole: true);
            revision = result.Revision;
        }
        else
        {
            // In key order up to the limit, as the store reads: its rows become the response's messages as they come.
            var rows = new RangeRows(response.Kvs, request.KeysOnly, request.CountOnly);
            context.GetHttpContext().Response.RegisterForDispose(rows);
            var summary = await store.RangeAsync(interval.Start, interval.Options(request.Limit, request.Revision), rows, context.CancellationToken);
            (response.Count, response.More, revision) = (summary.Count, summary.More, summary.Revision);
        }

        long current = request.Revision > 0 ? await store.GetRevisionAsync(context.CancellationToken) : revision;
        response.Header = identity.Header(current);
        return response;
    }

    public override async Task<PutResponse> Put(PutRequest request, ServerCallContext context)
    {
        var put = ToPut(request);
        var result = await store.TxnAsync(new Transaction([], [put], []), context.CancellationToken);
        var written = (TxnPutResult)result.Results[0];
        var response = new PutResponse { Header = identity.Header(result.Revision) };
        if (request.PrevKv && written.Previous is not null)
        {
            response.PrevKv = ToProto(written.Previous);
        }

        return response;
    }

    public override async Task<DeleteRangeResponse> DeleteRange(DeleteRangeRequest request, ServerCallContext context)
    {
        var result = await store.TxnAsync(new Transaction([], [ToDelete(request)], []), context.CancellationToken);
        var deleted = ((TxnDeleteResult)result.Results[0]).Deleted;
        var response = new DeleteRangeResponse { Header = identity.Header(result.Revision), Deleted = deleted.Count };
        if (request.PrevKv)
        {
            response.PrevKvs.AddRange(deleted.Select(ToProto));
        }

        return response;
    }

    public override async Task<TxnResponse> Txn(TxnRequest request, ServerCallContext context)
    {
        if (CountOps(request) > MaxTxnOps)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "etcdserver: too many operations in txn request"));
        }

        var transaction = ToTransaction(request);
        var result = await store.TxnAsync(transaction, context.CancellationToken);
        var response = ToResponse(request, result, result.Revision);
        response.Header = identity.Header(result.Revision);
        return response;
    }

    public override async Task<CompactionResponse> Compact(CompactionRequest request, ServerCallContext context)
    {
        long current = await store.GetRevisionAsync(context.CancellationToken);
        if (request.Revision > current)
        {
            throw new RpcException(new Status(StatusCode.OutOfRange, FrontErrors.FutureRevision));
        }

        if (request.Revision <= await store.GetCompactedRevisionAsync(context.CancellationToken))
        {
            throw new RpcException(new Status(StatusCode.OutOfRange, FrontErrors.Compacted));
        }

        await store.CompactAsync(request.Revision, context.CancellationToken);
        return new CompactionResponse { Header = identity.Header(await store.GetRevisionAsync(context.CancellationToken)) };
    }

    /// <summary>The key as etcd's mvccpb.KeyValue, with the lease it is attached to.</summary>
    public static Protocol.KeyValue ToProto(KeyValue kv) => new()
    {
        Key = FrontKeys.Bytes(kv.Key),
        // The store hands out a fresh array per read and never writes into it again: wrapping it spares a copy per key.
        Value = Google.Protobuf.UnsafeByteOperations.UnsafeWrap(kv.Value),
        CreateRevision = kv.CreateRevision,
        ModRevision = kv.ModRevision,
        Version = kv.Version,
        Lease = kv.Lease,
    };

    /// <summary>
    /// Whether etcd would read the whole range before cutting it to the limit: when it sorts other than by key
    /// ascending, or filters by revisions.
    /// </summary>
    private static bool NeedsWholeRange(RangeRequest request) =>
        (request.SortOrder != RangeRequest.Types.SortOrder.None
            && !(request.SortTarget == RangeRequest.Types.SortTarget.Key && request.SortOrder == RangeRequest.Types.SortOrder.Ascend))
        || request.MinModRevision != 0 || request.MaxModRevision != 0 || request.MinCreateRevision != 0 || request.MaxCreateRevision != 0;

    /// <summary>Filters, sorts and cuts <paramref name="items"/> as etcd's Range does, into <paramref name="response"/>.</summary>
    private void Fill(RangeResponse response, RangeRequest request, IReadOnlyList<KeyValue> items, bool more, long count, bool whole)
    {
        IEnumerable<KeyValue> selected = items;
        if (whole)
        {
            var filtered = items.Where(kv =>
                (request.MinModRevision == 0 || kv.ModRevision >= request.MinModRevision)
                && (request.MaxModRevision == 0 || kv.ModRevision <= request.MaxModRevision)
                && (request.MinCreateRevision == 0 || kv.CreateRevision >= request.MinCreateRevision)
                && (request.MaxCreateRevision == 0 || kv.CreateRevision <= request.MaxCreateRevision)).ToList();
            var sorted = Sort(filtered, request.SortTarget, request.SortOrder);
            count = request.MinModRevision != 0 || request.MaxModRevision != 0 || request.MinCreateRevision != 0 || request.MaxCreateRevision != 0 ? filtered.Count : count;
            more = request.Limit > 0 && filtered.Count > request.Limit;
            selected = request.Limit > 0 ? sorted.Take((int)request.Limit) : sorted;
        }

        response.Count = count;
        response.More = more;
        if (request.CountOnly)
        {
            return;
        }

        foreach (var kv in selected)
        {
            var proto = ToProto(kv);
            if (request.KeysOnly)
            {
                proto.Value = Google.Protobuf.ByteString.Empty;
            }

            response.Kvs.Add(proto);
        }
    }

    private static IEnumerable<KeyValue> Sort(List<KeyValue> items, RangeRequest.Types.SortTarget target, RangeRequest.Types.SortOrder order)
    {
        if (order == RangeRequest.Types.SortOrder.None)
        {
            return items;
        }

        Func<KeyValue, KeyValue, int> compare = target switch
        {
            RangeRequest.Types.SortTarget.Version => (a, b) => a.Version.CompareTo(b.Version),
            RangeRequest.Types.SortTarget.Create => (a, b) => a.CreateRevision.CompareTo(b.CreateRevision),
            RangeRequest.Types.SortTarget.Mod => (a, b) => a.ModRevision.CompareTo(b.ModRevision),
            RangeRequest.Types.SortTarget.Value => (a, b) => a.Value.AsSpan().SequenceCompareTo(b.Value),
            _ => (a, b) => string.CompareOrdinal(a.Key, b.Key),
        };
        var sorted = new List<KeyValue>(items);

        // Stable, as Go's sort.Stable in etcd: keys that tie stay in key order.
        var indexed = sorted.Select((kv, i) => (kv, i)).ToList();
        indexed.Sort((x, y) =>
        {
            int c = compare(x.kv, y.kv);
            c = order == RangeRequest.Types.SortOrder.Descend ? -c : c;
            return c != 0 ? c : x.i.CompareTo(y.i);
        });
        return indexed.Select(x => x.kv);
    }

    private static int CountOps(TxnRequest request) =>
        Math.Max(request.Success.Count, request.Failure.Count)
        + request.Success.Concat(request.Failure).Where(op => op.RequestCase == RequestOp.RequestOneofCase.RequestTxn).Sum(op => CountOps(op.RequestTxn));

    private static TxnPut ToPut(PutRequest request)
    {
        if (request.IgnoreValue || request.IgnoreLease)
        {
            throw FrontErrors.Unimplemented("put with ignore_value or ignore_lease");
        }

        // The store refuses a lease it does not have, inside the transaction that writes the key.
        return new TxnPut(FrontKeys.Key(request.Key), request.Value.ToByteArray(), Lease: request.Lease);
    }

    private static TxnDelete ToDelete(DeleteRangeRequest request)
    {
        var interval = FrontKeys.Interval(request.Key, request.RangeEnd);
        return new TxnDelete(interval.Start, interval.End);
    }

    private static Transaction ToTransaction(TxnRequest request)
    {
        var compares = new List<TxnCompare>();
        foreach (var compare in request.Compare)
        {
            if (!compare.RangeEnd.IsEmpty)
            {
                throw FrontErrors.Unimplemented("a compare over a key range");
            }

            string key = FrontKeys.Key(compare.Key);
            var op = compare.Result switch
            {
                Compare.Types.CompareResult.Equal => CompareOperator.Equal,
                Compare.Types.CompareResult.NotEqual => CompareOperator.NotEqual,
                Compare.Types.CompareResult.Greater => CompareOperator.Greater,
                _ => CompareOperator.Less,
            };
            switch (compare.Target)
            {
                case Compare.Types.CompareTarget.Version:
                    compares.Add(new TxnCompare(key, CompareTarget.Version, op, compare.Version));
                    break;
                case Compare.Types.CompareTarget.Create:
                    compares.Add(new TxnCompare(key, CompareTarget.CreateRevision, op, compare.CreateRevision));
                    break;
                case Compare.Types.CompareTarget.Mod:
                    compares.Add(new TxnCompare(key, CompareTarget.ModRevision, op, compare.ModRevision));
                    break;
                case Compare.Types.CompareTarget.Value:
                    compares.Add(new TxnCompare(key, CompareTarget.Value, op, Value: compare.Value.ToByteArray()));
                    break;
                default:
                    compares.Add(new TxnCompare(key, CompareTarget.Lease, op, compare.Lease));
                    break;
            }
        }

        return new Transaction(compares, [.. request.Success.Select(ToOperation)], [.. request.Failure.Select(ToOperation)]);
    }

    private static TxnOperation ToOperation(RequestOp op) => op.RequestCase switch
    {
        RequestOp.RequestOneofCase.RequestPut => ToPut(op.RequestPut),
        RequestOp.RequestOneofCase.RequestDeleteRange => ToDelete(op.RequestDeleteRange),
        RequestOp.RequestOneofCase.RequestRange => ToRange(op.RequestRange),
        RequestOp.RequestOneofCase.RequestTxn => ToTransaction(op.RequestTxn),
        _ => throw new RpcException(new Status(StatusCode.InvalidArgument, "etcdserver: a txn operation is empty")),
    };

    private static TxnRange ToRange(RangeRequest request)
    {
        if (request.Revision != 0)
        {
            throw FrontErrors.Unimplemented("a range at a past revision inside a txn");
        }

        var interval = FrontKeys.Interval(request.Key, request.RangeEnd);
        return new TxnRange(interval.Start, interval.End, NeedsWholeRange(request) ? 0 : request.Limit);
    }

    private TxnResponse ToResponse(TxnRequest request, TxnResult result, long revision)
    {
        var response = new TxnResponse { Succeeded = result.Succeeded };
        var ops = result.Succeeded ? request.Success : request.Failure;
        for (int i = 0; i < ops.Count; i++)
        {
            var header = identity.Header(revision);
            response.Responses.Add(result.Results[i] switch
            {
                TxnPutResult put => PutResponseOp(ops[i].RequestPut, put, header),
                TxnDeleteResult delete => DeleteResponseOp(ops[i].RequestDeleteRange, delete, header),
                TxnRangeResult range => RangeResponseOp(ops[i].RequestRange, range, header),
                TxnResult nested => new ResponseOp { ResponseTxn = WithHeader(ToResponse(ops[i].RequestTxn, nested, revision), header) },
                _ => throw new InvalidOperationException($"unexpected transaction result {result.Results[i].GetType().Name}"),
            });
        }

        return response;
    }

    private static TxnResponse WithHeader(TxnResponse response, ResponseHeader header)
    {
        response.Header = header;
        return response;
    }

    private static ResponseOp PutResponseOp(PutRequest request, TxnPutResult put, ResponseHeader header)
    {
        var response = new PutResponse { Header = header };
        if (request.PrevKv && put.Previous is not null)
        {
            response.PrevKv = ToProto(put.Previous);
        }

        return new ResponseOp { ResponsePut = response };
    }

    private static ResponseOp DeleteResponseOp(DeleteRangeRequest request, TxnDeleteResult delete, ResponseHeader header)
    {
        var response = new DeleteRangeResponse { Header = header, Deleted = delete.Deleted.Count };
        if (request.PrevKv)
        {
            response.PrevKvs.AddRange(delete.Deleted.Select(ToProto));
        }

        return new ResponseOp { ResponseDeleteRange = response };
    }

    private ResponseOp RangeResponseOp(RangeRequest request, TxnRangeResult range, ResponseHeader header)
    {
        var response = new RangeResponse { Header = header };
        Fill(response, request, range.Items, range.More, range.Count, NeedsWholeRange(request));
        return new ResponseOp { ResponseRange = response };
    }
}
