using System.Runtime.InteropServices;
using NodeAgent.Linux.Interop;

namespace NodeAgent.Linux;

/// <summary>
/// Random object IDs from the kernel's CSPRNG (getrandom(2)), as containerd takes them from crypto/rand. Used on the
/// container start path instead of <c>RandomNumberGenerator</c>, whose first call loads and configures OpenSSL
/// (libssl, libcrypto, openssl.cnf) in a short-lived CLI process.
/// </summary>
public static class RandomIds
{
    /// <summary><paramref name="bytes"/> random bytes as lowercase hex (64 digits for 32 bytes).</summary>
    public static unsafe string NewHex(int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        Span<byte> buffer = stackalloc byte[bytes];
        fixed (byte* p = buffer)
        {
            var done = 0;
            while (done < bytes)
            {
                var n = Libc.GetRandom(p + done, (nuint)(bytes - done), 0);
                if (n < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == ErrnoNames.EINTR)
                    {
                        continue;
                    }

                    throw new LinuxException("getrandom", null, errno);
                }

                done += (int)n;
            }
        }

        return Convert.ToHexStringLower(buffer);
    }
}
