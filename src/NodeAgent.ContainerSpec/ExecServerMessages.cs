using System.Buffers.Binary;
using System.Text;

namespace NodeAgent.ContainerSpec;

/// <summary>What the runtime asks of a container's exec server.</summary>
public enum ExecServerRequestKind : byte
{
    /// <summary>Start the command of the <see cref="ExecSpec"/> (JSON after the header); the message carries its stdout, stderr and, when <see cref="ExecServerMessages.HasStdin"/>, stdin.</summary>
    Start = 1,

    /// <summary>SIGKILL the process group of a started command that has not been reaped yet.</summary>
    Kill = 2,
}

/// <summary>What a container's exec server tells the runtime.</summary>
public enum ExecServerReplyKind : byte
{
    /// <summary>The command runs; the value is its PID in the container's PID namespace.</summary>
    Started = 1,

    /// <summary>The command could not start; the text says why (as the one-shot exec's sync pipe would).</summary>
    Failed = 2,

    /// <summary>The command ended and was reaped; the value is its exit code (128+N for signal N).</summary>
    Exited = 3,
}

/// <summary>
/// The exec server's wire format, one message per SOCK_SEQPACKET packet, little-endian:
/// request = kind (1 byte), id (4), flags (1), then for Start the ExecSpec as JSON; reply = kind (1 byte), id (4),
/// value (4), then for Failed the reason in UTF-8. Both sides treat what they receive as untrusted: the server runs
/// as the container's user inside it, so the runtime checks every reply (known id, known kind, bounded text).
/// </summary>
public static class ExecServerMessages
{
    /// <summary>The largest message either side sends; a request that would not fit goes through a one-shot exec.</summary>
    public const int MaxMessageBytes = 60 * 1024;

    /// <summary>The longest failure text a reply carries.</summary>
    public const int MaxReasonBytes = 4096;

    /// <summary>Start flag: the message's third descriptor is the command's stdin.</summary>
    public const byte HasStdin = 1;

    private const int RequestHeader = 6;
    private const int ReplyHeader = 9;

    public static byte[] Start(int id, ExecSpec spec, bool hasStdin)
    {
        var json = BundleJson.Write(spec);
        var message = new byte[RequestHeader + json.Length];
        message[0] = (byte)ExecServerRequestKind.Start;
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(1), id);
        message[5] = hasStdin ? HasStdin : (byte)0;
        json.CopyTo(message, RequestHeader);
        return message;
    }

    public static byte[] Kill(int id)
    {
        var message = new byte[RequestHeader];
        message[0] = (byte)ExecServerRequestKind.Kill;
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(1), id);
        return message;
    }

    /// <summary>Parses a request; false when it is malformed (the caller drops it).</summary>
    public static bool TryParseRequest(ReadOnlySpan<byte> message, out ExecServerRequestKind kind, out int id, out byte flags, out ExecSpec? spec)
    {
        kind = default;
        id = 0;
        flags = 0;
        spec = null;
        if (message.Length < RequestHeader || message[0] is not ((byte)ExecServerRequestKind.Start or (byte)ExecServerRequestKind.Kill))
        {
            return false;
        }

        kind = (ExecServerRequestKind)message[0];
        id = BinaryPrimitives.ReadInt32LittleEndian(message[1..]);
        flags = message[5];
        if (kind == ExecServerRequestKind.Start)
        {
            try
            {
                spec = BundleJson.ReadExecSpec(message[RequestHeader..], "exec request");
            }
            catch (InvalidDataException)
            {
                return false;
            }

            return spec is { Args.Count: > 0 };
        }

        return true;
    }

    public static byte[] Reply(ExecServerReplyKind kind, int id, int value, string? reason = null)
    {
        var text = reason is null ? [] : Encoding.UTF8.GetBytes(reason);
        var length = Math.Min(text.Length, MaxReasonBytes);
        var message = new byte[ReplyHeader + length];
        message[0] = (byte)kind;
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(1), id);
        BinaryPrimitives.WriteInt32LittleEndian(message.AsSpan(5), value);
        text.AsSpan(0, length).CopyTo(message.AsSpan(ReplyHeader));
        return message;
    }

    /// <summary>Parses a reply; false when it is malformed (the runtime then stops trusting that server).</summary>
    public static bool TryParseReply(ReadOnlySpan<byte> message, out ExecServerReplyKind kind, out int id, out int value, out string reason)
    {
        kind = default;
        id = 0;
        value = 0;
        reason = "";
        if (message.Length < ReplyHeader || message[0] is < (byte)ExecServerReplyKind.Started or > (byte)ExecServerReplyKind.Exited)
        {
            return false;
        }

        kind = (ExecServerReplyKind)message[0];
        id = BinaryPrimitives.ReadInt32LittleEndian(message[1..]);
        value = BinaryPrimitives.ReadInt32LittleEndian(message[5..]);
        var text = message[ReplyHeader..];
        if (text.Length > MaxReasonBytes)
        {
            return false;
        }

        reason = Encoding.UTF8.GetString(text);
        return kind != ExecServerReplyKind.Exited || value is >= 0 and <= 255;
    }
}
