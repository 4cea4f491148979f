using System.Text;

namespace Mesh.Cli.Admin;

/// <summary>
/// A small line editor for the shell on a terminal: typing, Backspace, Left/Right, Up/Down through the
/// history, Tab to complete (a single match is filled in; several are listed), Enter, Ctrl-D to leave.
/// </summary>
public static class LineEditor
{
    public static string? Read(string prompt, IReadOnlyList<string> history, Completer completer)
    {
        Console.Write(prompt);
        var line = new StringBuilder();
        var cursor = 0;
        var back = history.Count;   // position in the history while browsing it
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            switch (key.Key)
            {
                case ConsoleKey.Enter:
                    Console.WriteLine();
                    return line.ToString();
                case ConsoleKey.D when key.Modifiers.HasFlag(ConsoleModifiers.Control) && line.Length == 0:
                    Console.WriteLine();
                    return null;
                case ConsoleKey.Backspace when cursor > 0:
                    line.Remove(--cursor, 1);
                    break;
                case ConsoleKey.LeftArrow when cursor > 0:
                    cursor--;
                    break;
                case ConsoleKey.RightArrow when cursor < line.Length:
                    cursor++;
                    break;
                case ConsoleKey.UpArrow when back > 0:
                    line.Clear().Append(history[--back]);
                    cursor = line.Length;
                    break;
                case ConsoleKey.DownArrow when back < history.Count:
                    line.Clear().Append(++back < history.Count ? history[back] : "");
                    cursor = line.Length;
                    break;
                case ConsoleKey.Tab:
                    cursor = Complete(prompt, line, cursor, completer);
                    break;
                default:
                    if (!char.IsControl(key.KeyChar)) line.Insert(cursor++, key.KeyChar);
                    break;
            }
            Redraw(prompt, line, cursor);
        }
    }

    private static int Complete(string prompt, StringBuilder line, int cursor, Completer completer)
    {
        var text = line.ToString(0, cursor);
        var matches = completer.Complete(text);
        var typed = text.Length == 0 || char.IsWhiteSpace(text[^1]) ? "" : Shell.Words(text)[^1];
        if (matches.Count == 1)
        {
            var rest = matches[0][typed.Length..] + " ";
            line.Insert(cursor, rest);
            return cursor + rest.Length;
        }
        if (matches.Count > 1)
        {
            var common = matches.Aggregate((a, b) => new string(a.Zip(b).TakeWhile(p => p.First == p.Second).Select(p => p.First).ToArray()));
            if (common.Length > typed.Length)
            {
                line.Insert(cursor, common[typed.Length..]);
                return cursor + common.Length - typed.Length;
            }
            Console.WriteLine();
            Console.WriteLine(string.Join("  ", matches));
            Console.Write(prompt);
        }
        return cursor;
    }

    private static void Redraw(string prompt, StringBuilder line, int cursor)
    {
        Console.Write($"\r{prompt}{line}\u001b[K");   // rewrite the line and clear what is left of the old one
        if (line.Length > cursor) Console.Write($"\u001b[{line.Length - cursor}D");
    }
}
