//! L0 the few operating-system calls sigbox needs beyond `std`, in one place (the home of
//! the `rustix` crate): user IDs and peer credentials for the gitsign credential cache's
//! socket, the umask around creating it, and the open-file limit of the servers.

use std::os::fd::AsFd;

/// The real user ID of this process.
pub fn uid() -> u32 {
    rustix::process::getuid().as_raw()
}

/// The user ID of the process on the other end of a Unix socket (SO_PEERCRED).
///
/// Errors: the kernel's, e.g. for a socket that is not a connected Unix socket.
pub fn peer_uid(socket: impl AsFd) -> std::io::Result<u32> {
    rustix::net::sockopt::socket_peercred(socket)
        .map(|cred| cred.uid.as_raw())
        .map_err(std::io::Error::from)
}

/// Runs `f` with the process umask set to `mask`, then restores it: files and sockets `f`
/// creates never exist, even briefly, with more permissive bits.
pub fn with_umask<T>(mask: u32, f: impl FnOnce() -> T) -> T {
    let old = rustix::process::umask(rustix::fs::Mode::from_raw_mode(mask));
    let out = f();
    rustix::process::umask(old);
    out
}

/// Bytes an unprivileged writer may still use on the file system holding `path`.
///
/// Errors: the kernel's (e.g. `path` does not exist).
pub fn free_bytes(path: &std::path::Path) -> std::io::Result<u64> {
    let stat = rustix::fs::statvfs(path).map_err(std::io::Error::from)?;
    Ok(stat.f_bavail.saturating_mul(stat.f_frsize))
}

/// Takes an exclusive advisory lock (flock) on an open file or directory without waiting;
/// `false` if another open file description holds it. The lock goes with the descriptor.
///
/// Errors: the kernel's, other than "would block".
pub fn try_lock_exclusive(file: impl AsFd) -> std::io::Result<bool> {
    use rustix::fs::{flock, FlockOperation};
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Raises this process's soft limit on open files to its hard limit and returns the new
/// soft limit (None when it cannot be read). A server holds one descriptor per client
/// connection, and the usual soft default (1,024) would refuse connections long before
/// memory or CPU run out; Go's runtime does the same at start-up.
pub fn raise_fd_limit() -> Option<u64> {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        limit.current = limit.maximum;
        if setrlimit(Resource::Nofile, limit).is_err() {
            return getrlimit(Resource::Nofile).current;
        }
    }
    limit.current.or(Some(u64::MAX))
}

#[cfg(test)]
mod tests {
    #[test]
    fn fd_limit_is_raised_to_the_hard_limit() {
        let soft = super::raise_fd_limit().unwrap_or(0);
        let hard = rustix::process::getrlimit(rustix::process::Resource::Nofile).maximum;
        assert_eq!(Some(soft), hard.or(Some(u64::MAX)));
    }

    #[test]
    fn free_space_of_the_temp_dir_is_known() {
        assert!(super::free_bytes(&std::env::temp_dir()).is_ok());
        assert!(super::free_bytes(std::path::Path::new("/no/such/dir")).is_err());
    }

    #[test]
    fn peer_uid_of_a_socket_pair_is_our_own() {
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        assert_eq!(super::peer_uid(&a).unwrap(), super::uid());
    }
}
