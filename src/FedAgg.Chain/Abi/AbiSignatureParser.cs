namespace FedAgg.Chain.Abi;

/// <summary>
/// Parses types, parameter lists and human-readable signatures:
/// <c>[function|event|error] name(type [indexed] [name], …) [modifiers] [returns] [(outputs)]</c>, where tuple types are
/// written <c>(T1 a, T2 b)</c>; <c>memory</c>, <c>calldata</c> and <c>storage</c> after a type are ignored.
/// </summary>
internal sealed class AbiSignatureParser
{
    private readonly string _text;
    private int _position;
    private int _depth;

    public AbiSignatureParser(string text) => _text = text;

    public static ParsedSignature ParseSignature(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parser = new AbiSignatureParser(text);
        parser.SkipWhitespace();
        string? keyword = null;
        var name = parser.ParseIdentifier("a name");
        if (name is "function" or "event" or "error" or "constructor")
        {
            keyword = name;
            parser.SkipWhitespace();
            name = name == "constructor" && parser.Peek() == '(' ? string.Empty : parser.ParseIdentifier("a name");
        }

        var inputs = parser.ParseParameterList(allowIndexed: keyword is "event" or null);
        var anonymous = false;
        string? mutability = null;
        IReadOnlyList<AbiParameter>? outputs = null;
        while (true)
        {
            parser.SkipWhitespace();
            if (parser.AtEnd)
            {
                break;
            }

            if (parser.Peek() == '(')
            {
                outputs = parser.ParseParameterList(allowIndexed: false);
                parser.ExpectEnd();
                break;
            }

            var word = parser.ParseIdentifier("a modifier, 'returns' or the outputs");
            switch (word)
            {
                case "anonymous":
                    anonymous = true;
                    break;
                case "view" or "pure" or "payable" or "nonpayable":
                    mutability = word;
                    break;
                case "returns" or "external" or "public" or "internal" or "private":
                    break;
                default:
                    throw parser.Error($"unexpected '{word}'");
            }
        }

        return new ParsedSignature(keyword, name, inputs, outputs ?? [], anonymous, mutability);
    }

    public bool AtEnd => _position >= _text.Length;

    public AbiParameterType ParseType()
    {
        SkipWhitespace();
        AbiParameterType type;
        if (Peek() == '(')
        {
            if (++_depth > AbiParameterType.MaxDepth)
            {
                throw Error($"types nest deeper than {AbiParameterType.MaxDepth}");
            }

            type = AbiParameterType.Tuple([.. ParseParameterList(allowIndexed: false)]);
            _depth--;
        }
        else
        {
            var start = _position;
            var name = ParseIdentifier("a type");
            if (name == "tuple")
            {
                throw Error("write tuple types as (T1,T2,…)", start);
            }

            type = AbiParameterType.TryParseElementary(name) ?? throw Error($"unknown type '{name}'", start);
        }

        while (Peek() == '[')
        {
            var start = _position;
            _position++;
            if (Peek() == ']')
            {
                _position++;
                type = AbiParameterType.ArrayOf(type);
            }
            else
            {
                var digitsStart = _position;
                while (!AtEnd && char.IsAsciiDigit(_text[_position]))
                {
                    _position++;
                }

                var digits = _text.AsSpan(digitsStart, _position - digitsStart);
                if (Peek() != ']' || digits.Length is 0 or > 6 || digits[0] == '0' || !int.TryParse(digits, out var length) || length > AbiParameterType.MaxFixedArrayLength)
                {
                    throw Error($"expected [] or [k] with k from 1 to {AbiParameterType.MaxFixedArrayLength}", start);
                }

                _position++;
                type = AbiParameterType.FixedArrayOf(type, length);
            }

            if (type.CanonicalName.Length > 4096)
            {
                throw Error("type too long");
            }
        }

        return type;
    }

    public List<AbiParameter> ParseParameterList(bool allowIndexed)
    {
        SkipWhitespace();
        Expect('(');
        var parameters = new List<AbiParameter>();
        SkipWhitespace();
        if (TryConsume(')'))
        {
            return parameters;
        }

        while (true)
        {
            parameters.Add(ParseParameter(allowIndexed));
            SkipWhitespace();
            if (TryConsume(')'))
            {
                return parameters;
            }

            Expect(',');
        }
    }

    public void ExpectEnd()
    {
        SkipWhitespace();
        if (!AtEnd)
        {
            throw Error("unexpected text after the end");
        }
    }

    public FormatException Error(string problem, int? position = null) =>
        new($"Invalid ABI signature \"{Shorten(_text)}\" at position {position ?? _position}: {problem}.");

    private AbiParameter ParseParameter(bool allowIndexed)
    {
        var type = ParseType();
        var indexed = false;
        var name = string.Empty;
        SkipWhitespace();
        while (Peek() is not (',' or ')' or '\0'))
        {
            var start = _position;
            var word = ParseIdentifier("a parameter name");
            if (word == "indexed" && !indexed && name.Length == 0)
            {
                if (!allowIndexed)
                {
                    throw Error("'indexed' is only allowed on event parameters", start);
                }

                indexed = true;
            }
            else if (word is "memory" or "calldata" or "storage" && name.Length == 0)
            {
                // Data locations say nothing about the encoding.
            }
            else if (name.Length == 0)
            {
                name = word;
            }
            else
            {
                throw Error($"unexpected '{word}'", start);
            }

            SkipWhitespace();
        }

        return new AbiParameter(name, type, indexed);
    }

    private string ParseIdentifier(string what)
    {
        SkipWhitespace();
        var start = _position;
        while (!AtEnd && (char.IsAsciiLetterOrDigit(_text[_position]) || _text[_position] is '_' or '$'))
        {
            _position++;
        }

        if (_position == start || char.IsAsciiDigit(_text[start]))
        {
            throw Error($"expected {what}", start);
        }

        return _text[start.._position];
    }

    private char Peek() => AtEnd ? '\0' : _text[_position];

    private bool TryConsume(char c)
    {
        if (Peek() != c)
        {
            return false;
        }

        _position++;
        return true;
    }

    private void Expect(char c)
    {
        SkipWhitespace();
        if (!TryConsume(c))
        {
            throw Error($"expected '{c}'");
        }
    }

    private void SkipWhitespace()
    {
        while (!AtEnd && char.IsWhiteSpace(_text[_position]))
        {
            _position++;
        }
    }

    private static string Shorten(string text) => text.Length <= 200 ? text : string.Concat(text.AsSpan(0, 200), "…");
}

/// <summary>What a human-readable signature declares.</summary>
internal sealed record ParsedSignature(
    string? Keyword,
    string Name,
    IReadOnlyList<AbiParameter> Inputs,
    IReadOnlyList<AbiParameter> Outputs,
    bool Anonymous,
    string? StateMutability);
