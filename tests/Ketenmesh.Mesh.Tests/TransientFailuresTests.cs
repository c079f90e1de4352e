using System.Data.Common;
using Grpc.Core;
using Ketenmesh.Hosting;

namespace Ketenmesh.Mesh.Tests;

public sealed class TransientFailuresTests
{
    [Fact]
    public void A_transient_database_failure_wrapped_by_ef_core_becomes_unavailable()
    {
        var wrapped = new InvalidOperationException("An exception has been raised that is likely due to a transient failure.", new FakeDbException(transient: true));
        var status = TransientFailures.ToStatus(wrapped);
        Assert.Equal(StatusCode.Unavailable, status?.StatusCode);
        Assert.Contains("retry", status?.Detail);
    }

    [Fact]
    public void A_permanent_database_failure_is_left_to_the_default_mapping()
    {
        Assert.Null(TransientFailures.ToStatus(new InvalidOperationException("boom", new FakeDbException(transient: false))));
        Assert.Null(TransientFailures.ToStatus(new ArgumentException("a bug")));
    }

    [Fact]
    public void A_lost_optimistic_concurrency_race_is_aborted_so_the_caller_reads_again()
    {
        var status = ConcurrencyConflicts.ToStatus(new Microsoft.EntityFrameworkCore.DbUpdateConcurrencyException("version changed"));
        Assert.Equal(StatusCode.Aborted, status?.StatusCode);
        Assert.Contains("Read it again", status?.Detail);
        Assert.Null(ConcurrencyConflicts.ToStatus(new Microsoft.EntityFrameworkCore.DbUpdateException("unique index")));
    }

    private sealed class FakeDbException(bool transient) : DbException("database said no")
    {
        public override bool IsTransient => transient;
    }
}
