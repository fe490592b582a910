using System.Text;

namespace FedAgg.Reporting;

/// <summary>Escaping for text placed in HTML, SVG or XML, in element content or in quoted attribute values.</summary>
public static class HtmlText
{
    /// <summary>
    /// <paramref name="text"/> with <c>&amp; &lt; &gt; " '</c> replaced by entities, characters XML forbids (C0
    /// controls other than tab, line feed and carriage return; U+FFFE, U+FFFF) dropped, and unpaired surrogates
    /// replaced by U+FFFD. Null gives the empty string.
    /// </summary>
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        if (!NeedsWork(text))
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 16);
        Append(builder, text);
        return builder.ToString();
    }

    /// <summary>Appends <see cref="Escape"/> of <paramref name="text"/>.</summary>
    internal static void Append(StringBuilder builder, string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return;
        }

        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            switch (c)
            {
                case '&': builder.Append("&amp;"); break;
                case '<': builder.Append("&lt;"); break;
                case '>': builder.Append("&gt;"); break;
                case '"': builder.Append("&quot;"); break;
                case '\'': builder.Append("&#39;"); break;
                case '\t' or '\n' or '\r': builder.Append(c); break;
                case < ' ' or '\uFFFE' or '\uFFFF': break;
                default:
                    if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                    {
                        builder.Append(c).Append(text[++i]);
                    }
                    else
                    {
                        builder.Append(char.IsSurrogate(c) ? '\uFFFD' : c);
                    }

                    break;
            }
        }
    }

    private static bool NeedsWork(string text)
    {
        foreach (var c in text)
        {
            if (c is '&' or '<' or '>' or '"' or '\'' or < ' ' or '\uFFFE' or '\uFFFF' || char.IsSurrogate(c))
            {
                return true;
            }
        }

        return false;
    }
}
