using Microsoft.Win32.SafeHandles;
using NodeAgent.Linux;

namespace NodeAgent.Tests.Linux;

/// <summary>SOCK_SEQPACKET pairs: messages keep their boundaries and carry descriptors; what does not fit is refused.</summary>
public sealed class PacketSocketsTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    public void AMessageArrivesWholeWithItsDescriptors(int count)
    {
        var (a, b) = PacketSockets.CreatePair();
        using (a)
        using (b)
        {
            var pipes = Enumerable.Range(0, count).Select(_ => FileDescriptors.CreatePipe()).ToList();
            PacketSockets.Send(a, "first"u8, pipes.Select(p => (int)p.Write.DangerousGetHandle()).ToArray(), TimeSpan.FromSeconds(5));
            PacketSockets.Send(a, "second"u8, [], TimeSpan.FromSeconds(5));

            var buffer = new byte[64];
            var fds = new List<SafeFileHandle>();
            Assert.Equal(5, PacketSockets.Receive(b, buffer, fds));
            Assert.Equal(count, fds.Count);
            for (var i = 0; i < count; i++)
            {
                // Each received descriptor is the same pipe's write end: what goes in comes out of its read end.
                FileDescriptors.WriteAll((int)fds[i].DangerousGetHandle(), [(byte)i]);
                var one = new byte[1];
                using var read = new FileStream(pipes[i].Read, FileAccess.Read, 1);
                Assert.Equal(1, read.Read(one));
                Assert.Equal((byte)i, one[0]);
            }

            Assert.Equal(6, PacketSockets.Receive(b, buffer, fds));
            Assert.Equal(count, fds.Count);
            foreach (var fd in fds)
            {
                fd.Dispose();
            }

            foreach (var (r, w) in pipes)
            {
                r.Dispose();
                w.Dispose();
            }

            a.Dispose();
            Assert.Equal(0, PacketSockets.Receive(b, buffer, fds));
        }
    }

    [Fact]
    public void AMessageLargerThanTheBufferIsRefusedAndItsDescriptorsClosed()
    {
        var (a, b) = PacketSockets.CreatePair();
        using (a)
        using (b)
        {
            var (r, w) = FileDescriptors.CreatePipe();
            PacketSockets.Send(a, new byte[100], [(int)w.DangerousGetHandle()], TimeSpan.FromSeconds(5));
            w.Dispose();
            var fds = new List<SafeFileHandle>();
            Assert.Throws<InvalidDataException>(() => PacketSockets.Receive(b, new byte[10], fds));
            Assert.Empty(fds);
            using var read = new FileStream(r, FileAccess.Read, 1);
            Assert.Equal(0, read.Read(new byte[1])); // every write end is closed: end-of-file
        }
    }
}
