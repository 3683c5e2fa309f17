using DirectMail.Queue;

namespace DirectMail.Tests.Queue;

/// <summary>The worker's own limits, for a store that does not share them: the limit store contract within one process.</summary>
public sealed class InProcessLimitStoreTests : QueueLimitStoreContractTests
{
    private readonly InProcessLimitStore _limits = new();

    protected override IQueueLimitStore One => _limits;

    protected override IQueueLimitStore Two => _limits;
}
