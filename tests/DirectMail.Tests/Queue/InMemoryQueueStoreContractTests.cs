using System.Threading.Tasks;
using DirectMail.Queue;

namespace DirectMail.Tests.Queue;

/// <summary>The store contract on the queue tests' in-memory double, so that the worker's tests run against a store that keeps it.</summary>
public sealed class InMemoryQueueStoreContractTests : MailQueueStoreContractTests
{
    protected override ValueTask<IMailQueueStore> CreateStoreAsync() => new(new InMemoryQueueStore());
}
