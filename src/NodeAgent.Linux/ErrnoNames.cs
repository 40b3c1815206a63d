namespace NodeAgent.Linux;

/// <summary>Symbolic names of the errno values a runtime meets, for error messages.</summary>
public static class ErrnoNames
{
    public const int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, EBADF = 9, ECHILD = 10, EAGAIN = 11,
        ENOMEM = 12, EACCES = 13, EBUSY = 16, EEXIST = 17, EXDEV = 18, ENOTDIR = 20, EISDIR = 21, EINVAL = 22,
        ENOSPC = 28, EROFS = 30, ENAMETOOLONG = 36, ENOSYS = 38, ENOTEMPTY = 39, ELOOP = 40, ENOEXEC = 8, EOPNOTSUPP = 95;

    public static string? Get(int errno) => errno switch
    {
        EPERM => "EPERM", ENOENT => "ENOENT", ESRCH => "ESRCH", EINTR => "EINTR", EIO => "EIO", ENOEXEC => "ENOEXEC",
        EBADF => "EBADF", ECHILD => "ECHILD", EAGAIN => "EAGAIN", ENOMEM => "ENOMEM", EACCES => "EACCES",
        EBUSY => "EBUSY", EEXIST => "EEXIST", EXDEV => "EXDEV", ENOTDIR => "ENOTDIR", EISDIR => "EISDIR",
        EINVAL => "EINVAL", ENOSPC => "ENOSPC", EROFS => "EROFS", ENAMETOOLONG => "ENAMETOOLONG",
        ENOSYS => "ENOSYS", ENOTEMPTY => "ENOTEMPTY", ELOOP => "ELOOP", EOPNOTSUPP => "EOPNOTSUPP",
        _ => null,
    };
}
