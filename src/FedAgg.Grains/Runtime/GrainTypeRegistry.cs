using System.Collections.Concurrent;
using System.Reflection;
using System.Text;
using FedAgg.Grains.Reminders;
using FedAgg.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace FedAgg.Grains.Runtime;

/// <summary>The grain interfaces and classes registered with <c>grains.AddGrain&lt;TInterface, TGrain&gt;()</c>, checked at registration.</summary>
internal sealed class GrainTypeRegistry
{
    private readonly Dictionary<Type, GrainClassInfo> _byInterface = [];
    private readonly Dictionary<string, GrainClassInfo> _byGrainType = new(StringComparer.Ordinal);
    private readonly Dictionary<Type, GrainClassInfo> _byClass = [];

    public IReadOnlyCollection<GrainClassInfo> Classes => _byClass.Values;

    public void Add(Type grainInterface, Type grainClass)
    {
        if (!grainInterface.IsInterface || !typeof(IGrainWithStringKey).IsAssignableFrom(grainInterface))
        {
            throw new ArgumentException($"{grainInterface.Name} must be an interface deriving from IGrainWithStringKey.", nameof(grainInterface));
        }

        if (!typeof(Grain).IsAssignableFrom(grainClass) || grainClass.IsAbstract || grainClass.IsGenericTypeDefinition)
        {
            throw new ArgumentException($"{grainClass.Name} must be a concrete class deriving from Grain.", nameof(grainClass));
        }

        if (!grainInterface.IsAssignableFrom(grainClass))
        {
            throw new ArgumentException($"{grainClass.Name} does not implement {grainInterface.Name}.", nameof(grainClass));
        }

        if (_byInterface.TryGetValue(grainInterface, out var existing))
        {
            throw new ArgumentException(
                $"{grainInterface.Name} is already implemented by {existing.ImplementationType.Name}; one class per grain interface.", nameof(grainInterface));
        }

        ValidateInterface(grainInterface);
        if (!_byClass.TryGetValue(grainClass, out var info))
        {
            info = GrainClassInfo.Create(grainClass);
            if (_byGrainType.TryGetValue(info.GrainType, out var clash))
            {
                throw new ArgumentException(
                    $"{grainClass.Name} and {clash.ImplementationType.Name} both have the grain type '{info.GrainType}'; give one a [GrainType(\"...\")].",
                    nameof(grainClass));
            }

            if (info.IsRemindable)
            {
                ValidateInterface(typeof(IRemindable));
            }

            _byClass.Add(grainClass, info);
            _byGrainType.Add(info.GrainType, info);
        }

        _byInterface.Add(grainInterface, info);
    }

    public GrainClassInfo GetByInterface(Type grainInterface)
        => _byInterface.TryGetValue(grainInterface, out var info)
            ? info
            : throw new ArgumentException(
                $"No grain class implements {grainInterface.Name}; register one with grains.AddGrain<{grainInterface.Name}, TGrain>().",
                nameof(grainInterface));

    public GrainClassInfo? FindByGrainType(string grainType) => _byGrainType.GetValueOrDefault(grainType);

    /// <summary>Rejects interfaces the runtime cannot proxy: every method must return Task, Task&lt;T&gt;, ValueTask or ValueTask&lt;T&gt;.</summary>
    public static void ValidateInterface(Type grainInterface)
    {
        var problems = new StringBuilder();
        foreach (var iface in grainInterface.GetInterfaces().Append(grainInterface))
        {
            foreach (var method in iface.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            {
                var problem = method switch
                {
                    { IsStatic: true } => "static members are not supported",
                    { IsSpecialName: true } => "properties and events are not supported; use methods returning Task<T>",
                    _ when GrainMethod.ClassifyReturn(method.ReturnType) is null =>
                        $"returns {method.ReturnType.Name}; grain methods must return Task, Task<T>, ValueTask or ValueTask<T>",
                    _ when method.GetParameters().Any(p => p.ParameterType.IsByRef) => "ref, out and in parameters are not supported",
                    _ => null,
                };
                if (problem is not null)
                {
                    problems.Append("\n  ").Append(iface.Name).Append('.').Append(method.Name).Append(": ").Append(problem);
                }
            }
        }

        if (problems.Length > 0)
        {
            throw new ArgumentException($"{grainInterface.Name} cannot be a grain interface:{problems}", nameof(grainInterface));
        }
    }
}

/// <summary>What the runtime knows about one grain class.</summary>
internal sealed class GrainClassInfo
{
    private GrainClassInfo(Type implementationType, string grainType, bool reentrant, IReadOnlyList<PersistentStateDescriptor> states, ObjectFactory factory)
    {
        ImplementationType = implementationType;
        GrainType = grainType;
        IsReentrant = reentrant;
        States = states;
        Factory = factory;
    }

    public Type ImplementationType { get; }

    public string GrainType { get; }

    public bool IsReentrant { get; }

    public bool IsRemindable => typeof(IRemindable).IsAssignableFrom(ImplementationType);

    public IReadOnlyList<PersistentStateDescriptor> States { get; }

    public ObjectFactory Factory { get; }

    public static GrainClassInfo Create(Type grainClass)
    {
        var grainType = grainClass.GetCustomAttribute<GrainTypeAttribute>()?.GrainType ?? DefaultGrainType(grainClass);
        if (grainType.Length == 0 || !grainType.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'))
        {
            throw new ArgumentException($"The grain type '{grainType}' of {grainClass.Name} must be non-empty ASCII letters, digits, '.', '-' or '_'.", nameof(grainClass));
        }

        var constructor = ChooseConstructor(grainClass);
        var states = new List<PersistentStateDescriptor>();
        foreach (var parameter in constructor.GetParameters())
        {
            var attribute = parameter.GetCustomAttribute<PersistentStateAttribute>();
            if (attribute is null)
            {
                continue;
            }

            var parameterType = parameter.ParameterType;
            if (!parameterType.IsGenericType || parameterType.GetGenericTypeDefinition() != typeof(IPersistentState<>))
            {
                throw new ArgumentException(
                    $"{grainClass.Name}'s constructor parameter '{parameter.Name}' has [PersistentState] but is a {parameterType.Name}; it must be IPersistentState<TState>.",
                    nameof(grainClass));
            }

            var stateType = parameterType.GetGenericArguments()[0];
            if (!stateType.IsValueType && stateType.GetConstructor(Type.EmptyTypes) is null)
            {
                throw new ArgumentException(
                    $"{grainClass.Name}'s state type {stateType.Name} (parameter '{parameter.Name}') needs a public parameterless constructor for its empty state.",
                    nameof(grainClass));
            }

            if (states.Any(s => s.StateName == attribute.StateName))
            {
                throw new ArgumentException($"{grainClass.Name} declares the state name '{attribute.StateName}' twice.", nameof(grainClass));
            }

            states.Add(new PersistentStateDescriptor(attribute.StateName, attribute.StorageName ?? PersistentStateAttribute.DefaultStorageName, stateType, parameter.Name ?? "?"));
        }

        var argumentTypes = states.Select(s => typeof(IPersistentState<>).MakeGenericType(s.StateType)).ToArray();
        var factory = ActivatorUtilities.CreateFactory(grainClass, argumentTypes);
        return new GrainClassInfo(grainClass, grainType, grainClass.GetCustomAttribute<ReentrantAttribute>() is not null, states, factory);
    }

    private static string DefaultGrainType(Type grainClass)
    {
        var name = grainClass.Name;
        if (name.EndsWith("Grain", StringComparison.Ordinal) && name.Length > "Grain".Length)
        {
            name = name[..^"Grain".Length];
        }

        return name.ToLowerInvariant();
    }

    private static ConstructorInfo ChooseConstructor(Type grainClass)
    {
        var constructors = grainClass.GetConstructors();
        if (constructors.Length == 0)
        {
            throw new ArgumentException($"{grainClass.Name} has no public constructor.", nameof(grainClass));
        }

        return constructors.FirstOrDefault(c => c.IsDefined(typeof(ActivatorUtilitiesConstructorAttribute), false))
            ?? constructors.MaxBy(c => c.GetParameters().Length)!;
    }
}

/// <summary>One <c>[PersistentState]</c> constructor parameter.</summary>
internal sealed record PersistentStateDescriptor(string StateName, string StorageName, Type StateType, string ParameterName);

internal enum ReturnKind
{
    Task,
    TaskOfT,
    ValueTask,
    ValueTaskOfT,
}

internal enum RequestKind
{
    Exclusive,
    ReadOnly,
    Interleave,
}

/// <summary>One grain interface method: how to call it through the runtime and how it schedules.</summary>
internal sealed class GrainMethod
{
    private static readonly ConcurrentDictionary<MethodInfo, GrainMethod> Cache = new();
    private static readonly MethodInfo InvokeOpen = typeof(GrainMethod).GetMethod(nameof(InvokeThroughRuntime), BindingFlags.NonPublic | BindingFlags.Static)!;

    private readonly Func<GrainRuntime, GrainId, GrainClassInfo, GrainMethod, object?[], object> _invoker;

    private GrainMethod(MethodInfo method)
    {
        Method = method;
        ReturnKind = ClassifyReturn(method.ReturnType)
            ?? throw new ArgumentException($"{method.DeclaringType?.Name}.{method.Name} returns {method.ReturnType.Name}, which a grain method cannot.");
        ResultType = ReturnKind is ReturnKind.TaskOfT or ReturnKind.ValueTaskOfT ? method.ReturnType.GetGenericArguments()[0] : typeof(object);
        Kind = method.IsDefined(typeof(AlwaysInterleaveAttribute), true) ? RequestKind.Interleave
            : method.IsDefined(typeof(ReadOnlyAttribute), true) ? RequestKind.ReadOnly
            : RequestKind.Exclusive;
        Name = $"{method.DeclaringType?.Name}.{method.Name}";
        _invoker = InvokeOpen.MakeGenericMethod(ResultType).CreateDelegate<Func<GrainRuntime, GrainId, GrainClassInfo, GrainMethod, object?[], object>>();
    }

    public MethodInfo Method { get; }

    public ReturnKind ReturnKind { get; }

    public Type ResultType { get; }

    public RequestKind Kind { get; }

    public string Name { get; }

    public static GrainMethod Get(MethodInfo method) => Cache.GetOrAdd(method, static m => new GrainMethod(m));

    public static ReturnKind? ClassifyReturn(Type returnType)
    {
        if (returnType == typeof(Task))
        {
            return ReturnKind.Task;
        }

        if (returnType == typeof(ValueTask))
        {
            return ReturnKind.ValueTask;
        }

        if (returnType.IsGenericType)
        {
            var definition = returnType.GetGenericTypeDefinition();
            if (definition == typeof(Task<>))
            {
                return ReturnKind.TaskOfT;
            }

            if (definition == typeof(ValueTask<>))
            {
                return ReturnKind.ValueTaskOfT;
            }
        }

        return null;
    }

    /// <summary>Sends a call through the runtime and returns what the proxy's caller expects (a Task, Task&lt;T&gt;, or a boxed ValueTask).</summary>
    public object Invoke(GrainRuntime runtime, GrainId grainId, GrainClassInfo grainClass, object?[] arguments)
        => _invoker(runtime, grainId, grainClass, this, arguments);

    /// <summary>Calls the method on the grain instance and awaits whichever awaitable it returned.</summary>
    public async Task<T> InvokeOnGrainAsync<T>(object grain, object?[] arguments)
    {
        var returned = Method.Invoke(grain, BindingFlags.DoNotWrapExceptions, binder: null, arguments, culture: null);
        switch (ReturnKind)
        {
            case ReturnKind.Task:
                await (EnsureReturned<Task>(returned)).ConfigureAwait(false);
                return default!;
            case ReturnKind.TaskOfT:
                return await EnsureReturned<Task<T>>(returned).ConfigureAwait(false);
            case ReturnKind.ValueTask:
                await ((ValueTask)returned!).ConfigureAwait(false);
                return default!;
            default:
                return await ((ValueTask<T>)returned!).ConfigureAwait(false);
        }
    }

    private TTask EnsureReturned<TTask>(object? returned)
        where TTask : class
        => returned as TTask ?? throw new InvalidOperationException($"{Name} returned null instead of a task.");

    private static object InvokeThroughRuntime<T>(GrainRuntime runtime, GrainId grainId, GrainClassInfo grainClass, GrainMethod method, object?[] arguments)
    {
        var task = runtime.InvokeAsync<T>(grainId, grainClass, method, arguments);
        return method.ReturnKind switch
        {
            ReturnKind.Task or ReturnKind.TaskOfT => task,
            ReturnKind.ValueTask => new ValueTask(task),
            _ => new ValueTask<T>(task),
        };
    }
}
