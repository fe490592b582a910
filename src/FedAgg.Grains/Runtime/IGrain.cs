namespace FedAgg.Grains.Runtime;

/// <summary>Marks something that has a grain identity: a grain, or a reference (proxy) to one. Orleans: <c>IAddressable</c>.</summary>
#pragma warning disable CA1040 // Marker interfaces mirror Orleans' programming model.
public interface IAddressable
{
}

/// <summary>The marker every grain interface derives from. Orleans: <c>IGrain</c>.</summary>
public interface IGrain : IAddressable
{
}

/// <summary>A grain interface whose grains are identified by a string key. Orleans: <c>IGrainWithStringKey</c>.</summary>
public interface IGrainWithStringKey : IGrain
{
}
#pragma warning restore CA1040

/// <summary>Hands out references to grains. Orleans: <c>IGrainFactory</c>.</summary>
public interface IGrainFactory
{
    /// <summary>
    /// Returns a reference to the grain of <typeparamref name="TGrainInterface"/> with <paramref name="primaryKey"/>.
    /// Nothing is activated until the first call through the reference.
    /// </summary>
    /// <typeparam name="TGrainInterface">A grain interface registered with <c>grains.AddGrain&lt;TGrainInterface, TGrain&gt;()</c>.</typeparam>
    /// <param name="primaryKey">The grain's key.</param>
    /// <returns>A reference whose methods send requests to the grain's single activation.</returns>
    /// <exception cref="ArgumentException">No grain class is registered for <typeparamref name="TGrainInterface"/>.</exception>
    TGrainInterface GetGrain<TGrainInterface>(string primaryKey)
        where TGrainInterface : IGrainWithStringKey;
}
