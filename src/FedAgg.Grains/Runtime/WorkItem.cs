using FedAgg.Grains.Storage;

namespace FedAgg.Grains.Runtime;

/// <summary>Something an activation runs as a turn: a grain call, a timer tick, or the activation itself.</summary>
internal abstract class WorkItem
{
    private volatile bool _completed;

    protected WorkItem(RequestKind kind, CallChain? callerChain)
    {
        Kind = kind;
        CallerChain = callerChain;
    }

    public RequestKind Kind { get; }

    /// <summary>The chain of the caller (null for calls from outside any grain).</summary>
    public CallChain? CallerChain { get; }

    /// <summary>The counter the item runs under (set when it starts).</summary>
    public RequestKind RunningAs { get; set; }

    public bool Completed
    {
        get => _completed;
        set => _completed = value;
    }

    public abstract string Description { get; }

    /// <summary>Whether the item counts as activity for idle collection.</summary>
    public virtual bool KeepsAlive => true;

    /// <summary>Whether the item follows the grain to a new activation when its activation goes away before running it.</summary>
    public virtual bool Reroutable => true;

    /// <summary>Runs on the activation's scheduler; reports its outcome itself and never throws.</summary>
    public abstract Task ExecuteAsync(GrainActivation activation);

    /// <summary>Fails the item without running it.</summary>
    public abstract void Fail(Exception exception);
}

/// <summary>A grain call waiting for its response.</summary>
internal sealed class GrainRequest<T> : WorkItem
{
    private readonly TaskCompletionSource<T> _response = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object?[] _arguments;

    public GrainRequest(GrainMethod method, object?[] arguments, CallChain? callerChain)
        : base(method.Kind, callerChain)
    {
        Method = method;
        _arguments = arguments;
    }

    public GrainMethod Method { get; }

    public Task<T> Response => _response.Task;

    public override string Description => Method.Name;

    public override async Task ExecuteAsync(GrainActivation activation)
    {
        CallChain.Current = new CallChain(activation, this, CallerChain);
        try
        {
            var result = await Method.InvokeOnGrainAsync<T>(activation.Instance!, _arguments).ConfigureAwait(false);
            _response.TrySetResult(result);
        }
        catch (Exception exception)
        {
            _response.TrySetException(exception);
            if (exception is InconsistentStateException)
            {
                // As Orleans: the in-memory state lost a write race, so the next call should reload it.
                activation.RequestDeactivation(new DeactivationReason(
                    DeactivationReasonCode.ApplicationError, $"{Method.Name} failed with an ETag conflict"));
            }
        }
    }

    public override void Fail(Exception exception) => _response.TrySetException(exception);
}

/// <summary>One tick of a grain timer.</summary>
internal sealed class TimerTick : WorkItem
{
    private readonly GrainTimer _timer;

    public TimerTick(GrainTimer timer, bool interleave)
        : base(interleave ? RequestKind.Interleave : RequestKind.Exclusive, callerChain: null) => _timer = timer;

    public override string Description => "timer tick";

    public override bool KeepsAlive => _timer.KeepAlive;

    public override bool Reroutable => false;

    public override async Task ExecuteAsync(GrainActivation activation)
    {
        CallChain.Current = new CallChain(activation, this, null);
        await _timer.RunTickAsync().ConfigureAwait(false);
    }

    public override void Fail(Exception exception) => _timer.TickAbandoned();
}

/// <summary>Stands for OnActivateAsync / OnDeactivateAsync in the call chain.</summary>
internal sealed class LifecycleMarker(string description) : WorkItem(RequestKind.Exclusive, callerChain: null)
{
    public override string Description { get; } = description;

    public override Task ExecuteAsync(GrainActivation activation) => Task.CompletedTask;

    public override void Fail(Exception exception)
    {
    }
}
