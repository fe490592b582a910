using System.Reflection;

namespace FedAgg.Grains.Runtime;

/// <summary>
/// The base of the generated grain references: every interface call becomes a request to the grain's single
/// activation. Orleans: <c>GrainReference</c>. Not sealed because <see cref="DispatchProxy"/> derives from it.
/// </summary>
#pragma warning disable CA1852 // DispatchProxy generates a subclass at run time.
internal class GrainReferenceProxy : DispatchProxy, IAddressable
#pragma warning restore CA1852
{
    private GrainRuntime? _runtime;
    private GrainClassInfo? _grainClass;

    public GrainId GrainId { get; private set; }

    public Type? InterfaceType { get; private set; }

    public static TGrainInterface Create<TGrainInterface>(GrainRuntime runtime, GrainId grainId, GrainClassInfo grainClass)
        where TGrainInterface : IGrainWithStringKey
    {
        var proxy = Create<TGrainInterface, GrainReferenceProxy>();
        var reference = (GrainReferenceProxy)(object)proxy!;
        reference._runtime = runtime;
        reference._grainClass = grainClass;
        reference.GrainId = grainId;
        reference.InterfaceType = typeof(TGrainInterface);
        return proxy;
    }

    public override bool Equals(object? obj)
        => obj is GrainReferenceProxy other && other.GrainId == GrainId && other.InterfaceType == InterfaceType;

    public override int GetHashCode() => HashCode.Combine(GrainId, InterfaceType);

    public override string ToString() => $"GrainReference:{InterfaceType?.Name}:{GrainId}";

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        return GrainMethod.Get(targetMethod).Invoke(_runtime!, GrainId, _grainClass!, args ?? []);
    }
}
